#!/usr/bin/env bash
# Fills gpu-carry/ (ignored by git), the folder that travels to the GPU machine with the source
# tree for scripts/gpu-check: GoogleTest's source (the GPU machine has no installed GoogleTest)
# and Debian's Fashion-MNIST files (for the training test), and plans/: the compiler's CUDA
# plans for the test models and a --target=cuda library (scripts/gpu-plans.py).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p gpu-carry
[ -d gpu-carry/googletest ] || cp -r /usr/src/googletest gpu-carry/googletest
[ -d gpu-carry/fashion-mnist ] || cp -r /usr/share/datasets/fashion-mnist gpu-carry/fashion-mnist
du -sh gpu-carry
# The compiler's CUDA output for the test models and an ember-compile --target=cuda library
# (the GPU machine's build has no compiler): made fresh each time from this checkout's build.
rm -rf gpu-carry/plans
PYTHONPATH=$PWD/build/python python3 scripts/gpu-plans.py gpu-carry/plans
du -sh gpu-carry/plans
