#!/usr/bin/env bash
# Sets up, builds and runs the demo: the foundation slice (eager add in Python and C++, ember IR
# JIT-compiled through MLIR -> LLVM), then an MLP trained on Fashion-MNIST with a compiled
# training step, exported to a .ember file, reloaded and scored on the test set.
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
echo "== Fashion-MNIST MLP: train (compiled step) -> export -> reload -> test accuracy =="
python3 examples/mlp/train_fashion_mnist.py --out "$BUILD_DIR/demo"
