#!/usr/bin/env bash
# Sets up, builds and runs the demo: the foundation slice (eager add in Python and C++, ember IR
# JIT-compiled through MLIR -> LLVM), then LeNet-5 on Fashion-MNIST trained eagerly and with a
# compiled training step (same weights and batches; times, losses and test accuracies printed),
# exported to a .ember file, reloaded and scored on the test set; then compiled ahead of time
# (ember-compile) into a self-contained library that a C and a C++ program run on the test set
# (accuracy and latency), and run from the command line with ember-run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${EMBER_BUILD_DIR:-build}
bash scripts/setup.sh
export PYTHONPATH="$PWD/$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}"
echo "== Python: import ember =="
python3 examples/slice/demo.py
echo "== C++: eager and JIT =="
"$BUILD_DIR/examples/ember_slice_demo"
echo "== Fashion-MNIST LeNet-5: train eagerly, train compiled -> export -> reload -> test accuracy =="
python3 examples/lenet/train_fashion_mnist.py --steps "${EMBER_DEMO_STEPS:-300}" --out "$BUILD_DIR/demo"
echo "== AOT: ember-compile -> libfmnist.so / .a -> C and C++ programs on the test set =="
bash examples/deploy/run.sh "$BUILD_DIR/demo/lenet.ember" "$BUILD_DIR/demo/deploy" "$BUILD_DIR"
echo "== ember-run: the exported model on 1000 test images (.npy) =="
python3 - "$BUILD_DIR/demo" <<'PY'
import gzip, sys, numpy as np
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)[:1000]
np.save(sys.argv[1] + "/images.npy", (x.astype(np.float32) / 255.0 - 0.2860) / 0.3530)
PY
"$BUILD_DIR/tools/ember-run" "$BUILD_DIR/demo/lenet.ember" --input "images=$BUILD_DIR/demo/images.npy" \
  --output-dir "$BUILD_DIR/demo" --bench 10
python3 - "$BUILD_DIR/demo" <<'PY'
import gzip, sys, numpy as np
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)[:1000]
logits = np.load(sys.argv[1] + "/logits.npy")
print(f"ember-run: accuracy {(logits.argmax(1) == y).mean():.4f} on the first 1000 test images")
PY
