// The MLP forward and SGD training step several unit tests trace, compile and generate code for.
#pragma once

#include "ember/Graph.h"
#include "ember/Ops.h"

#include <vector>

namespace ember::demo {

inline std::vector<Shape> mlpShapes() { return {{8, 5}, {5, 16}, {16}, {16, 3}}; }

// relu(x @ w1 + b1) @ w2 on (x, w1, b1, w2).
inline std::vector<Tensor> mlp(const std::vector<Tensor>& in) {
  return {matmul(relu(add(matmul(in[0], in[1]), in[2])), in[3])};
}

// The summed MLP output as loss, its gradients by the autograd transform, and the SGD update
// (lr 0.1): returns (loss, w1', b1', w2').
inline std::vector<Tensor> mlpTrainStep(const std::vector<Tensor>& in) {
  Tensor loss = sum(mlp(in)[0]);
  std::vector<Tensor> params(in.begin() + 1, in.end());
  std::vector<Tensor> grads = autograd::grad({loss}, params);
  std::vector<Tensor> out{loss};
  for (size_t i = 0; i < params.size(); ++i)
    out.push_back(add(params[i], mul(full({}, -0.1f), grads[i])));
  return out;
}

} // namespace ember::demo
