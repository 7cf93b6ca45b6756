#!/usr/bin/env bash
# Sets up, builds and runs every test tier: GoogleTest (ctest), lit + FileCheck, pytest.
# Fails if any tier fails or runs no test; prints per-tier counts at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${EMBER_BUILD_DIR:-build}
t0=$(date +%s)
bash scripts/setup.sh || { echo "[test] set-up or build failed"; exit 1; }

export PYTHONPATH="$PWD/$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}"
declare -A summary
status=0

echo "== tier 1: C++ unit tests (ctest) =="
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" 2>&1 | tee /tmp/ember-ctest.log
rc=${PIPESTATUS[0]}
line=$(grep -E "tests passed|tests failed" /tmp/ember-ctest.log | tail -1)
summary[unit]="${line:-no result}"
total=$(grep -oE "out of [0-9]+" /tmp/ember-ctest.log | tail -1 | grep -oE "[0-9]+")
if [ "$rc" != 0 ] || [ "${total:-0}" = 0 ]; then status=1; summary[unit]+=" [FAILED]"; fi

echo "== tier 2: lit + FileCheck (ember-opt) =="
/usr/lib/llvm-22/bin/lit -sv "$BUILD_DIR/test" 2>&1 | tee /tmp/ember-lit.log
rc=${PIPESTATUS[0]}
line=$(grep -E "^\s*(Passed|Failed|Unsupported|Expectedly Failed)\s*:" /tmp/ember-lit.log | tr -s ' ' | paste -sd, -)
summary[lit]="${line:-no result}"
passed=$(grep -E "^\s*Passed\s*:" /tmp/ember-lit.log | grep -oE "[0-9]+" | head -1)
if [ "$rc" != 0 ] || [ "${passed:-0}" = 0 ]; then status=1; summary[lit]+=" [FAILED]"; fi

echo "== tier 3: pytest (import ember vs PyTorch) =="
python3 -m pytest -q test/python 2>&1 | tee /tmp/ember-pytest.log
rc=${PIPESTATUS[0]}
summary[python]="$(tail -1 /tmp/ember-pytest.log)"
# pytest exits 5 when it collected no test: that is a failure here too.
if [ "$rc" != 0 ]; then status=1; summary[python]+=" [FAILED]"; fi

echo
echo "== per-tier results =="
for tier in unit lit python; do printf '  %-7s %s\n' "$tier" "${summary[$tier]}"; done
echo "  total time: $(( $(date +%s) - t0 )) s"
exit $status
