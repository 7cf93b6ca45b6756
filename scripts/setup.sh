#!/usr/bin/env bash
# One idempotent set-up step for everything ember's build, tests, demo and benchmarks need:
# Debian packages, PyPI packages for the python3 on PATH, then a CMake + Ninja build (ccache on).
# Called by scripts/demo.sh and scripts/test.sh. Re-running it only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${EMBER_BUILD_DIR:-build}
APT_PACKAGES=(llvm-22-dev libmlir-22-dev mlir-22-tools libfmt-dev libgtest-dev googletest
              ccache lld ninja-build cmake g++ zlib1g-dev dataset-fashion-mnist)
PIP_PACKAGES=(torch numpy pytest onnx onnxruntime safetensors nanobind)
PIP_MODULES=(torch numpy pytest onnx onnxruntime safetensors nanobind)

log() { printf '[setup] %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt: all packages present"
fi

missing=()
for i in "${!PIP_MODULES[@]}"; do
  python3 -c "import ${PIP_MODULES[$i]}" 2>/dev/null || missing+=("${PIP_PACKAGES[$i]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "pip: installing ${missing[*]}"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${missing[@]}"
else
  log "pip: all packages present"
fi

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Hash paths relative to the checkout so a clone elsewhere (CI) hits the same cache entries.
export CCACHE_BASEDIR="$PWD"
ccache --max-size=5G >/dev/null 2>&1 || true
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  log "configuring $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir -DPython_EXECUTABLE="$(command -v python3)" >/dev/null
fi
log "building ($(nproc) jobs)"
start=$(date +%s)
cmake --build "$BUILD_DIR" -j "$(nproc)"
log "build done in $(( $(date +%s) - start )) s"
