#!/usr/bin/env bash
# Builds the deploy examples against a model compiled by ember-compile and runs them:
#   examples/deploy/run.sh MODEL.ember OUTDIR [BUILD_DIR]
set -euo pipefail
model=$1 out=$2 build=${3:-build}
here=$(cd "$(dirname "$0")" && pwd)
"$build/tools/ember-compile" "$model" --target=cpu -O3 --name fmnist -o "$out"
cc -O2 "$here/deploy.c" -I "$out" -L "$out" -lfmnist -lm -o "$out/deploy_c"
c++ -O2 -std=c++17 "$here/deploy.cpp" -I "$out" "$out/libfmnist.a" -lpthread -lm -o "$out/deploy_cpp"
LD_LIBRARY_PATH="$out" "$out/deploy_c"
"$out/deploy_cpp"
