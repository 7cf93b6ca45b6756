// Per-op costs on tiny tensors from C++: dispatch without autograd, the extra cost of recording
// a node when an input requires grad, and backward's cost per node (issue 4's dispatch figure,
// issue 5's "autograd bookkeeping at most 1 us per node").
//   build/bench/ember-bench-overhead [ops per chain, default 1000]
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace ember;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over `reps` runs of fn(), in microseconds per op.
template <typename F>
double perOp(int reps, int ops, F fn) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                    .count() / ops);
  }
  return median(t);
}

} // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  set_num_threads(1);
  Tensor x = ones({4});
  Tensor w = ones({4});
  w.set_requires_grad(true);

  const double plain = perOp(21, n, [&] {
    Tensor y = x;
    for (int i = 0; i < n; ++i) y = add(y, x);
  });
  const double recorded = perOp(21, n, [&] {
    Tensor y = w;
    for (int i = 0; i < n; ++i) y = add(y, x);
  });
  // Backward alone: build the chain, then time backward through its n nodes.
  std::vector<double> back;
  for (int r = 0; r < 21; ++r) {
    Tensor y = w;
    for (int i = 0; i < n; ++i) y = add(y, x);
    Tensor loss = sum(y);
    auto start = std::chrono::steady_clock::now();
    loss.backward();
    back.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                       .count() / (n + 1));
  }
  const double backward = median(back);
  std::printf("dispatch (add on 4 floats, no grad):        %.3f us/op\n", plain);
  std::printf("forward with recording (input requires grad): %.3f us/op  (+%.3f us for the node)\n",
              recorded, recorded - plain);
  std::printf("backward per node (its VJP's ops included):  %.3f us/node\n", backward);
  std::printf("autograd cost per node (recording + backward): %.3f us\n", recorded - plain + backward);
  return 0;
}
