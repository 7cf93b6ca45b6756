#!/usr/bin/env bash
# Sets up, builds and runs the demo. For now the foundation slice: eager add from Python
# (checked against PyTorch) and from C++, and ember IR JIT-compiled through MLIR -> LLVM.
# It grows into train -> compile -> export -> AOT-deploy as those land.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${EMBER_BUILD_DIR:-build}
bash scripts/setup.sh
export PYTHONPATH="$PWD/$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}"
echo "== Python: import ember =="
python3 examples/slice/demo.py
echo "== C++: eager and JIT =="
"$BUILD_DIR/examples/ember_slice_demo"
