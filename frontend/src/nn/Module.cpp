#include "ember/nn/Module.h"

#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/Optim.h"
#include "ember/runtime/Error.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#ifdef EMBER_HAVE_ZLIB
#include <zlib.h>
#endif

namespace ember::nn {

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(const std::string& prefix) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [name, t] : params_)
    if (t.defined()) out.emplace_back(prefix + name, t);
  for (const auto& [name, m] : children_)
    for (auto& p : m->named_parameters(prefix + name + ".")) out.push_back(std::move(p));
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.set_grad(Tensor());
}

Tensor& Module::register_parameter(const std::string& name, Tensor t) {
  if (t.defined()) t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return params_.back().second;
}

namespace {
// U(-bound, bound) with bound = 1 / sqrt(fan_in): PyTorch's default for Linear and Conv weights
// (kaiming_uniform with a = sqrt(5)) and biases.
Tensor uniform_param(const Shape& shape, int64_t fan_in) {
  Tensor t = empty(shape);
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(double(fan_in)) : 0.0;
  uniform_(t, -bound, bound);
  return t;
}
} // namespace

Linear::Linear(int64_t in_features, int64_t out_features, bool with_bias) {
  weight = register_parameter("weight", uniform_param({out_features, in_features}, in_features));
  bias = register_parameter("bias", with_bias ? uniform_param({out_features}, in_features) : Tensor());
}
Tensor Linear::forward(const Tensor& x) { return functional::linear(x, weight, bias); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t k, int64_t s, int64_t p,
               bool with_bias)
    : stride(s), padding(p) {
  const int64_t fan_in = in_channels * k * k;
  weight = register_parameter("weight", uniform_param({out_channels, in_channels, k, k}, fan_in));
  bias = register_parameter("bias", with_bias ? uniform_param({out_channels}, fan_in) : Tensor());
}
Tensor Conv2d::forward(const Tensor& x) {
  return functional::conv2d(x, weight, bias, {stride}, {padding});
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

MaxPool2d::MaxPool2d(int64_t k, int64_t s) : kernel_size(k), stride(s ? s : k) {}
Tensor MaxPool2d::forward(const Tensor& x) {
  return functional::max_pool2d(x, {kernel_size}, {stride});
}

Tensor Flatten::forward(const Tensor& x) { return flatten(x, 1, -1); }

Sequential& Sequential::add(std::shared_ptr<Module> m) {
  EMBER_CHECK(m != nullptr, Value, "ember::nn::Sequential::add", "got a null module");
  layers_.push_back(register_module(std::to_string(layers_.size()), std::move(m)));
  return *this;
}
Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : layers_) h = (*m)(h);
  return h;
}

} // namespace ember::nn

namespace ember::optim {

SGD::SGD(std::vector<Tensor> params, double lr_, double momentum, double dampening,
         double weight_decay, bool nesterov)
    : lr(lr_), params_(std::move(params)), buffers_(params_.size()), momentum_(momentum),
      dampening_(dampening), weight_decay_(weight_decay), nesterov_(nesterov) {
  EMBER_CHECK(lr >= 0, Value, "ember::optim::SGD", "Invalid learning rate: ", lr);
  EMBER_CHECK(!nesterov || (momentum > 0 && dampening == 0), Value, "ember::optim::SGD",
              "Nesterov momentum requires a momentum and zero dampening");
}

void SGD::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    const bool first = momentum_ != 0 && !buffers_[i].defined();
    if (first) buffers_[i] = zeros(params_[i].shape(), params_[i].dtype());
    sgd_step_(params_[i], g.contiguous(), buffers_[i], lr, momentum_, dampening_, weight_decay_,
              nesterov_, false, first);
  }
}

void SGD::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

Adam::Adam(std::vector<Tensor> params, double lr_, double beta1, double beta2, double eps,
           double weight_decay, bool amsgrad)
    : lr(lr_), params_(std::move(params)), state_(params_.size()), beta1_(beta1), beta2_(beta2),
      eps_(eps), weight_decay_(weight_decay), amsgrad_(amsgrad) {
  const char* op = "ember::optim::Adam";
  EMBER_CHECK(lr >= 0, Value, op, "Invalid learning rate: ", lr);
  EMBER_CHECK(eps >= 0, Value, op, "Invalid epsilon value: ", eps);
  EMBER_CHECK(beta1 >= 0 && beta1 < 1, Value, op, "Invalid beta parameter at index 0: ", beta1);
  EMBER_CHECK(beta2 >= 0 && beta2 < 1, Value, op, "Invalid beta parameter at index 1: ", beta2);
  EMBER_CHECK(weight_decay >= 0, Value, op, "Invalid weight_decay value: ", weight_decay);
}

void Adam::step() {
  GradModeGuard no_grad(false);
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor g = params_[i].grad();
    if (!g.defined()) continue;
    State& s = state_[i];
    if (s.step == 0) {
      s.exp_avg = zeros(params_[i].shape(), params_[i].dtype());
      s.exp_avg_sq = zeros(params_[i].shape(), params_[i].dtype());
      if (amsgrad_) s.max_exp_avg_sq = zeros(params_[i].shape(), params_[i].dtype());
    }
    ++s.step;
    adam_step_(params_[i], g.contiguous(), s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, lr, beta1_,
               beta2_, eps_, weight_decay_, decoupled_, amsgrad_, false, s.step);
  }
}

void Adam::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

AdamW::AdamW(std::vector<Tensor> params, double lr_, double beta1, double beta2, double eps,
             double weight_decay, bool amsgrad)
    : Adam(std::move(params), lr_, beta1, beta2, eps, weight_decay, amsgrad) {
  decoupled_ = true;
}

} // namespace ember::optim

namespace ember::data {
namespace {

// The bytes of an IDX file (gzip-compressed or plain).
std::vector<unsigned char> read_file(const std::string& path) {
  std::vector<unsigned char> out;
#ifdef EMBER_HAVE_ZLIB
  gzFile f = gzopen(path.c_str(), "rb"); // reads plain files as they are
  EMBER_CHECK(f != nullptr, Value, "ember::data", "cannot open '", path, "' (install Debian's "
              "dataset-fashion-mnist, or pass the directory holding the IDX files)");
  unsigned char buf[1 << 16];
  for (int n; (n = gzread(f, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
  gzclose(f);
#else
  EMBER_CHECK(path.size() < 3 || path.compare(path.size() - 3, 3, ".gz") != 0, NotImplemented,
              "ember::data", "'", path, "' is gzipped and this build has no zlib; gunzip it first");
  FILE* f = std::fopen(path.c_str(), "rb");
  EMBER_CHECK(f != nullptr, Value, "ember::data", "cannot open '", path, "'");
  unsigned char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
#endif
  return out;
}

// Dimensions and payload offset of an IDX byte array (unsigned bytes only).
Shape idx_dims(const std::vector<unsigned char>& d, const std::string& path, size_t& offset) {
  EMBER_CHECK(d.size() >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 8, Value, "ember::data", "'",
              path, "' is not an IDX file of unsigned bytes");
  const int ndim = d[3];
  EMBER_CHECK(d.size() >= size_t(4 + 4 * ndim), Value, "ember::data", "'", path, "' is truncated");
  Shape dims;
  int64_t total = 1;
  for (int i = 0; i < ndim; ++i) {
    const unsigned char* p = d.data() + 4 + 4 * i;
    dims.push_back((int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) | p[3]);
    total *= dims.back();
  }
  offset = size_t(4 + 4 * ndim);
  EMBER_CHECK(d.size() >= offset + size_t(total), Value, "ember::data", "'", path,
              "' is truncated: ", d.size() - offset, " of ", total, " bytes");
  return dims;
}

std::string find(const std::string& dir, const std::string& name) {
  const std::string plain = dir + "/" + name;
  if (FILE* f = std::fopen((plain + ".gz").c_str(), "rb")) {
    std::fclose(f);
    return plain + ".gz";
  }
  return plain;
}

} // namespace

ImageSet load_fashion_mnist(const std::string& split, const std::string& dir, double mean,
                            double std) {
  EMBER_CHECK(split == "train" || split == "t10k", Value, "ember::data::load_fashion_mnist",
              "split must be 'train' or 't10k', got '", split, "'");
  const std::string ipath = find(dir, split + "-images-idx3-ubyte");
  const std::string lpath = find(dir, split + "-labels-idx1-ubyte");
  auto ib = read_file(ipath), lb = read_file(lpath);
  size_t io = 0, lo = 0;
  Shape idims = idx_dims(ib, ipath, io), ldims = idx_dims(lb, lpath, lo);
  EMBER_CHECK(idims.size() == 3 && ldims.size() == 1 && idims[0] == ldims[0], Value,
              "ember::data::load_fashion_mnist", "'", ipath, "' and '", lpath, "' do not match");
  const int64_t n = idims[0], h = idims[1], w = idims[2];
  ImageSet set{empty({n, 1, h, w}), empty({n}, DType::Int64)};
  float* px = set.images.data_ptr();
  for (int64_t i = 0; i < n * h * w; ++i) px[i] = float((ib[io + size_t(i)] / 255.0 - mean) / std);
  int64_t* py = set.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) py[i] = lb[lo + size_t(i)];
  return set;
}

BatchIterator::BatchIterator(const ImageSet& set, int64_t batch_size, bool shuffle, bool drop_last)
    : set_(set), batch_(batch_size), drop_last_(drop_last),
      order_(shuffle ? randperm(set.size()) : arange(0, double(set.size()), 1, DType::Int64)) {
  EMBER_CHECK(batch_size > 0, Value, "ember::data::BatchIterator", "batch_size must be positive");
}

bool BatchIterator::next(Tensor& images, Tensor& labels) {
  const int64_t n = set_.size();
  if (at_ >= n || (drop_last_ && at_ + batch_ > n)) return false;
  const int64_t end = std::min(n, at_ + batch_);
  Tensor idx = slice(order_, 0, at_, end);
  images = index_select(set_.images, 0, idx);
  labels = index_select(set_.labels, 0, idx);
  at_ = end;
  return true;
}

} // namespace ember::data
