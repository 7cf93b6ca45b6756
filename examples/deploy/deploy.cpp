// The C++ deployment of the Fashion-MNIST model (LeNet-5 in the demo, or an MLP) compiled by
// ember-compile (--name fmnist): the C API behind a small RAII class, the test set read with
// `gzip -dc`, accuracy printed.
//
//   c++ -std=c++17 deploy.cpp -I OUT -L OUT -lfmnist -o deploy_cpp && LD_LIBRARY_PATH=OUT ./deploy_cpp
#include "fmnist.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// One model session; errors become exceptions carrying the library's message.
class Model {
public:
  Model() : s_(fmnist_create(), &fmnist_destroy) {
    if (!s_) throw std::runtime_error("fmnist_create: out of memory");
  }
  std::vector<int64_t> input_shape() const {
    const int64_t* s = fmnist_input_shape(0);
    return {s, s + fmnist_input_rank(0)};
  }
  const float* operator()(const std::vector<float>& x) {
    if (fmnist_set_input(s_.get(), fmnist_input_name(0), x.data()) || fmnist_run(s_.get()))
      throw std::runtime_error(fmnist_last_error(s_.get()));
    return fmnist_get_output(s_.get(), fmnist_output_name(0));
  }

private:
  std::unique_ptr<fmnist_session, void (*)(fmnist_session*)> s_;
};

std::vector<unsigned char> read_idx(const std::string& path, size_t header) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(popen(("gzip -dc '" + path + "'").c_str(), "r"), &pclose);
  if (!f) throw std::runtime_error("cannot run gzip on " + path);
  std::vector<unsigned char> data;
  unsigned char buf[65536];
  for (size_t n; (n = fread(buf, 1, sizeof buf, f.get())) > 0;) data.insert(data.end(), buf, buf + n);
  if (data.size() < header) throw std::runtime_error(path + " is not an IDX file");
  return {data.begin() + long(header), data.end()};
}

} // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  try {
    const auto images = read_idx(dir + "/t10k-images-idx3-ubyte.gz", 16);
    const auto labels = read_idx(dir + "/t10k-labels-idx1-ubyte.gz", 8);
    Model model;
    // [batch, 784] (an MLP) or [batch, 1, 28, 28] (LeNet): the pixels per image either way.
    const std::vector<int64_t> shape = model.input_shape();
    const int64_t batch = shape[0];
    int64_t pixels = 1;
    for (size_t d = 1; d < shape.size(); ++d) pixels *= shape[d];
    if (pixels != 28 * 28) throw std::runtime_error("the model does not take 28x28 images");
    std::vector<float> x(size_t(batch * pixels));
    int64_t correct = 0, seen = 0;
    double seconds = 0;
    for (int64_t start = 0; start + batch <= int64_t(labels.size()); start += batch) {
      for (int64_t i = 0; i < batch * pixels; ++i)
        x[size_t(i)] = (images[size_t(start * pixels + i)] / 255.0f - 0.2860f) / 0.3530f;
      const auto t0 = std::chrono::steady_clock::now();
      const float* logits = model(x);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      for (int64_t i = 0; i < batch; ++i) {
        int64_t best = 0;
        for (int64_t c = 1; c < 10; ++c)
          if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
        correct += best == labels[size_t(start + i)];
      }
      seen += batch;
    }
    std::printf("deployed (C++): accuracy %.4f on %lld test images, %.3f ms per batch of %lld\n",
                double(correct) / double(seen), (long long)seen, seconds * 1e3 / double(seen / batch),
                (long long)batch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
