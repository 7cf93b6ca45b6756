// ember-import: traces one of ember's built-in C++ demo graphs and prints it as ember dialect
// IR (the importer's output), for lit tests and for looking at what tracing records.
//   ember-import mlp             forward of relu(x @ w1 + b1) @ w2
//   ember-import mlp-train-step  loss, gradients (autograd transform) and the SGD update
//   ember-import conv-pool       max_pool2d(relu(conv2d(x, w, b, padding=1)), 2)
//   ember-import embed-ce-grad   cross_entropy(embedding(ids, table) @ w, target) over int64 ids
//                                and class indices, and its gradients for table and w
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/compiler/Compile.h"
#include "ember/runtime/Error.h"

#include <cstdio>
#include <string>

using namespace ember;

namespace {

std::vector<Tensor> mlp(const std::vector<Tensor>& in) {
  return {matmul(relu(add(matmul(in[0], in[1]), in[2])), in[3])};
}

std::vector<Tensor> trainStep(const std::vector<Tensor>& in) {
  Tensor loss = sum(mlp(in)[0]);
  std::vector<Tensor> params(in.begin() + 1, in.end());
  std::vector<Tensor> grads = autograd::grad({loss}, params);
  std::vector<Tensor> out{loss};
  Tensor lr = full({}, -0.1f);
  for (size_t i = 0; i < params.size(); ++i) out.push_back(add(params[i], mul(lr, grads[i])));
  return out;
}

std::vector<Tensor> convPool(const std::vector<Tensor>& in) {
  return {nn::functional::max_pool2d(relu(nn::functional::conv2d(in[0], in[1], in[2], {1}, {1})), {2})};
}

// in: ids [6] int64, table [10, 4], w [4, 5], target [6] int64.
std::vector<Tensor> embedCeGrad(const std::vector<Tensor>& in) {
  Tensor logits = matmul(nn::functional::embedding(in[0], in[1]), in[2]);
  Tensor loss = nn::functional::cross_entropy(logits, in[3]);
  std::vector<Tensor> grads = autograd::grad({loss}, {in[1], in[2]});
  return {loss, grads[0], grads[1]};
}
} // namespace

int main(int argc, char** argv) {
  std::string which = argc > 1 ? argv[1] : "";
  std::vector<Shape> shapes = {{8, 5}, {5, 16}, {16}, {16, 3}};
  try {
    Graph g;
    if (which == "mlp") g = trace(mlp, shapes);
    else if (which == "mlp-train-step") g = trace(trainStep, shapes, {false, true, true, true});
    else if (which == "conv-pool") g = trace(convPool, {{2, 3, 8, 8}, {4, 3, 3, 3}, {4}});
    else if (which == "embed-ce-grad")
      g = trace(embedCeGrad, {{6}, {10, 4}, {4, 5}, {6}}, {false, true, true, false},
                {DType::Int64, DType::Float32, DType::Float32, DType::Int64});
    else {
      std::fprintf(stderr, "usage: ember-import mlp|mlp-train-step|conv-pool|embed-ce-grad\n");
      return 2;
    }
    std::fputs(compiler::graphToMLIR(g).c_str(), stdout);
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
