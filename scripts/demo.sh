#!/usr/bin/env bash
# Sets up, builds and runs the demo: the foundation slice (eager add in Python and C++, ember IR
# JIT-compiled through MLIR -> LLVM), then an MLP trained on Fashion-MNIST with a compiled
# training step, exported to a .ember file, reloaded and scored on the test set; then compiled
# ahead of time (ember-compile) into a self-contained library that a C and a C++ program use on
# the test set, and run from the command line with ember-run.
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
echo "== AOT: ember-compile -> libfmnist.so / .a -> C and C++ programs on the test set =="
bash examples/deploy/run.sh "$BUILD_DIR/demo/mlp.ember" "$BUILD_DIR/demo/deploy" "$BUILD_DIR"
echo "== ember-run: the exported model on a .npy batch of test images =="
python3 - "$BUILD_DIR/demo/images.npy" <<'PY'
import gzip, sys, numpy as np
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:1000]
np.save(sys.argv[1], (x.astype(np.float32) / 255.0 - 0.2860) / 0.3530)
PY
"$BUILD_DIR/tools/ember-run" "$BUILD_DIR/demo/mlp.ember" --input "images=$BUILD_DIR/demo/images.npy" \
  --output-dir "$BUILD_DIR/demo" --bench 20
