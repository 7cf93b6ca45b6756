// The C++ side of test/python/test_cpp_api.py: one model built with ember::nn (the same layers
// the test builds with ember.nn and torch.nn), driven through files.
//
//   ember_cpp_api_interop save DIR   cpp_model.safetensors (its state after one training-mode
//                                     forward) and cpp_io.safetensors (input, train- and
//                                     eval-mode outputs, one tensor of every dtype)
//   ember_cpp_api_interop load DIR   py_model.safetensors → the model (strict), py_io's input →
//                                     cpp_out.safetensors (the eval-mode output)
//   ember_cpp_api_interop train DIR adamw|sgd
//                                     py_init.safetensors + py_data.safetensors → 6 steps of
//                                     AdamW or SGD (Nesterov momentum, weight decay), with
//                                     ExponentialLR and CrossEntropyLoss from a DataLoader →
//                                     cpp_trained.safetensors (state, "loss.N", "lr.N")
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Serialization.h"
#include "ember/data/Data.h"
#include "ember/nn/Layers.h"
#include "ember/optim/Optimizers.h"
#include "ember/optim/Schedulers.h"
#include "ember/runtime/Error.h"

#include <cstdio>
#include <memory>
#include <string>

using namespace ember;

namespace {

std::shared_ptr<nn::Sequential> build() {
  auto m = std::make_shared<nn::Sequential>();
  m->add(std::make_shared<nn::Conv2d>(1, 4, 3, 1, 1))        // 0
      .add(std::make_shared<nn::BatchNorm2d>(4))            // 1
      .add(std::make_shared<nn::ReLU>())                    // 2
      .add(std::make_shared<nn::AvgPool2d>(Shape{2}))       // 3
      .add(std::make_shared<nn::AdaptiveAvgPool2d>(Shape{2})) // 4
      .add(std::make_shared<nn::Flatten>())                 // 5
      .add(std::make_shared<nn::Linear>(16, 12))            // 6
      .add(std::make_shared<nn::LayerNorm>(Shape{12}))      // 7
      .add(std::make_shared<nn::GELU>())                    // 8
      .add(std::make_shared<nn::Linear>(12, 10))            // 9
      .add(std::make_shared<nn::BatchNorm1d>(10))           // 10
      .add(std::make_shared<nn::SiLU>())                    // 11
      .add(std::make_shared<nn::LeakyReLU>(0.1))            // 12
      .add(std::make_shared<nn::Linear>(10, 3));            // 13
  return m;
}

void save_model(const std::string& dir) {
  manual_seed(0);
  auto model = build();
  Tensor x = randn({4, 1, 8, 8});
  Tensor y_train = (*model)(x).detach();
  model->eval();
  GradModeGuard no_grad(false);
  Tensor y_eval = (*model)(x);
  save(*model, dir + "/cpp_model.safetensors");
  StateDict io{{"input", x}, {"train_output", y_train}, {"eval_output", y_eval}};
  Tensor v = from_vector({-2.5f, 0.0f, 1.25f, 100.0f}, {2, 2});
  for (DType d : {DType::Float64, DType::Float16, DType::BFloat16, DType::Int64, DType::Int32,
                  DType::Int16, DType::Int8, DType::UInt8, DType::Bool})
    io.insert(std::string("zoo_") + dtype_name(d), v.to(d));
  save(io, dir + "/cpp_io.safetensors", {{"producer", "ember C++"}});
}

void load_model(const std::string& dir) {
  auto model = build();
  load(*model, dir + "/py_model.safetensors");
  model->eval();
  GradModeGuard no_grad(false);
  Tensor x = load(dir + "/py_io.safetensors").at("input");
  save(StateDict{{"output", (*model)(x)}}, dir + "/cpp_out.safetensors");
}

void train_model(const std::string& dir, const std::string& which) {
  auto model = build();
  load(*model, dir + "/py_init.safetensors");
  StateDict d = load(dir + "/py_data.safetensors");
  auto ds = std::make_shared<data::TensorDataset>(std::vector<Tensor>{d.at("x"), d.at("y")});
  data::DataLoader loader(ds, 8, false, 2); // two batches per epoch, on two worker threads
  std::unique_ptr<optim::Optimizer> opt_ptr;
  if (which == "adamw")
    opt_ptr = std::make_unique<optim::AdamW>(model->parameters(), 0.01, 0.9, 0.999, 1e-8, 0.05);
  else if (which == "sgd")
    opt_ptr = std::make_unique<optim::SGD>(model->parameters(), 0.1, 0.9, 0.0, 0.01, true);
  else
    fail(ErrorKind::Value, "cpp_api_interop", "unknown optimizer ", which);
  optim::Optimizer& opt = *opt_ptr;
  optim::ExponentialLR sched(opt, 0.8);
  nn::CrossEntropyLoss criterion;
  StateDict out;
  int step = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (const data::Sample& b : loader) {
      opt.zero_grad();
      Tensor loss = criterion((*model)(b[0]), b[1]);
      loss.backward();
      opt.step();
      out.insert("loss." + std::to_string(step), loss.detach());
      out.insert("lr." + std::to_string(step), full({}, opt.param_groups()[0].lr(), DType::Float64));
      ++step;
    }
    sched.step();
  }
  for (const auto& [k, t] : model->state_dict()) out.insert("state." + k, t);
  save(out, dir + "/cpp_trained.safetensors");
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s save|load|train DIR [adamw|sgd]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], dir = argv[2];
  try {
    if (mode == "save") save_model(dir);
    else if (mode == "load") load_model(dir);
    else if (mode == "train") train_model(dir, argc > 3 ? argv[3] : "adamw");
    else {
      std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
