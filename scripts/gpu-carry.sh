#!/usr/bin/env bash
# Fills gpu-carry/ (ignored by git), the folder that travels to the GPU machine with the source
# tree for scripts/gpu-check: GoogleTest's source (the GPU machine has no installed GoogleTest)
# and Debian's Fashion-MNIST files (for the training test).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p gpu-carry
[ -d gpu-carry/googletest ] || cp -r /usr/src/googletest gpu-carry/googletest
[ -d gpu-carry/fashion-mnist ] || cp -r /usr/share/datasets/fashion-mnist gpu-carry/fashion-mnist
du -sh gpu-carry
