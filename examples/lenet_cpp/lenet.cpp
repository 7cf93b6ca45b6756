// LeNet-5 on Fashion-MNIST in C++ (ember::nn, ember::optim, ember::data, ember::save): trains for
// the given number of steps (or epochs) with SGD + momentum from a DataLoader and prints the test
// accuracy; --save writes the trained state dict (a safetensors file ember.load reads).
//
//   ember_lenet_cpp [--steps N | --epochs E] [--batch B] [--train-limit N] [--data DIR]
//                   [--workers W] [--save FILE]
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Serialization.h"
#include "ember/data/Data.h"
#include "ember/nn/Layers.h"
#include "ember/optim/Optimizers.h"
#include "ember/runtime/Error.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace ember;

int main(int argc, char** argv) {
  int64_t steps = 300, epochs = 0, batch = 64, limit = 0, workers = 1;
  std::string dir = "/usr/share/datasets/fashion-mnist", save_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::atoll(argv[i + 1]);
    else if (a == "--epochs") epochs = std::atoll(argv[i + 1]);
    else if (a == "--batch") batch = std::atoll(argv[i + 1]);
    else if (a == "--train-limit") limit = std::atoll(argv[i + 1]);
    else if (a == "--data") dir = argv[i + 1];
    else if (a == "--workers") workers = std::atoll(argv[i + 1]);
    else if (a == "--save") save_path = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  try {
    manual_seed(0);
    const double mean = 0.2860, std = 0.3530;
    auto train = std::make_shared<data::FashionMNIST>(dir, true, mean, std);
    auto test = std::make_shared<data::FashionMNIST>(dir, false, mean, std);
    std::shared_ptr<data::Dataset> train_set = train;
    if (limit > 0 && limit < train->size())
      train_set = std::make_shared<data::TensorDataset>(std::vector<Tensor>{
          slice(train->images(), 0, 0, limit), slice(train->targets(), 0, 0, limit)});
    auto model = std::make_shared<nn::Sequential>();
    model->add(std::make_shared<nn::Conv2d>(1, 6, 5, 1, 2)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::MaxPool2d>(2))
        .add(std::make_shared<nn::Conv2d>(6, 16, 5)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::MaxPool2d>(2)).add(std::make_shared<nn::Flatten>())
        .add(std::make_shared<nn::Linear>(16 * 5 * 5, 120)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::Linear>(120, 84)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::Linear>(84, 10));
    optim::SGD opt(model->parameters(), 0.05, 0.9);
    nn::CrossEntropyLoss criterion;
    data::DataLoader loader(train_set, batch, /*shuffle=*/true, workers, /*drop_last=*/true);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t done = 0;
    for (int64_t epoch = 0; epochs ? epoch < epochs : done < steps; ++epoch) {
      for (const data::Sample& b : loader) {
        if (!epochs && done >= steps) break;
        opt.zero_grad();
        Tensor loss = criterion((*model)(b[0]), b[1]);
        loss.backward();
        opt.step();
        if (++done % 100 == 0) std::printf("  step %5lld  loss %.4f\n", (long long)done, loss.item());
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model->eval();
    GradModeGuard no_grad(false);
    int64_t correct = 0;
    for (const data::Sample& b : data::DataLoader(test, 1000))
      correct += int64_t(sum(eq(argmax((*model)(b[0]), 1), b[1])).item());
    std::printf("LeNet-5 (C++): %lld steps in %.1f s (%.1f ms/step), test accuracy %.4f\n",
                (long long)done, secs, secs * 1e3 / double(done), double(correct) / double(test->size()));
    if (!save_path.empty()) {
      save(*model, save_path);
      std::printf("saved the state dict to %s\n", save_path.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
