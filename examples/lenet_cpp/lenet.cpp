// LeNet-5 on Fashion-MNIST in C++ (ember::nn, ember::optim, ember::data): trains for the given
// number of steps (or epochs) with SGD + momentum and prints the test accuracy.
//
//   ember_lenet_cpp [--steps N | --epochs E] [--batch B] [--train-limit N] [--data DIR]
#include "ember/Functional.h"
#include "ember/Creation.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace ember;

int main(int argc, char** argv) {
  int64_t steps = 300, epochs = 0, batch = 64, limit = 0;
  std::string dir = "/usr/share/datasets/fashion-mnist";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--steps") steps = std::atoll(argv[i + 1]);
    else if (a == "--epochs") epochs = std::atoll(argv[i + 1]);
    else if (a == "--batch") batch = std::atoll(argv[i + 1]);
    else if (a == "--train-limit") limit = std::atoll(argv[i + 1]);
    else if (a == "--data") dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  try {
    manual_seed(0);
    data::ImageSet train = data::load_fashion_mnist("train", dir);
    data::ImageSet test = data::load_fashion_mnist("t10k", dir);
    if (limit > 0 && limit < train.size())
      train = {slice(train.images, 0, 0, limit), slice(train.labels, 0, 0, limit)};
    auto model = std::make_shared<nn::Sequential>();
    model->add(std::make_shared<nn::Conv2d>(1, 6, 5, 1, 2)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::MaxPool2d>(2))
        .add(std::make_shared<nn::Conv2d>(6, 16, 5)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::MaxPool2d>(2)).add(std::make_shared<nn::Flatten>())
        .add(std::make_shared<nn::Linear>(16 * 5 * 5, 120)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::Linear>(120, 84)).add(std::make_shared<nn::ReLU>())
        .add(std::make_shared<nn::Linear>(84, 10));
    optim::SGD opt(model->parameters(), 0.05, 0.9);
    const auto t0 = std::chrono::steady_clock::now();
    int64_t done = 0;
    for (int64_t epoch = 0; epochs ? epoch < epochs : done < steps; ++epoch) {
      data::BatchIterator it(train, batch, /*shuffle=*/true);
      Tensor x, y;
      while ((epochs || done < steps) && it.next(x, y)) {
        opt.zero_grad();
        Tensor loss = nn::functional::cross_entropy((*model)(x), y);
        loss.backward();
        opt.step();
        if (++done % 100 == 0) std::printf("  step %5lld  loss %.4f\n", (long long)done, loss.item());
      }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    model->eval();
    GradModeGuard no_grad(false);
    int64_t correct = 0;
    data::BatchIterator it(test, 1000, /*shuffle=*/false, /*drop_last=*/false);
    Tensor x, y;
    while (it.next(x, y)) correct += int64_t(sum(eq(argmax((*model)(x), 1), y)).item());
    std::printf("LeNet-5 (C++): %lld steps in %.1f s (%.1f ms/step), test accuracy %.4f\n",
                (long long)done, secs, secs * 1e3 / double(done), double(correct) / double(test.size()));
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
