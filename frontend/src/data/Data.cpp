// ember::data (ember/data/Data.h): datasets, the DataLoader and its worker threads, the IDX
// reader.
#include "ember/data/Data.h"

#include "ember/Creation.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <numeric>
#include <thread>
#ifdef EMBER_HAVE_ZLIB
#include <zlib.h>
#endif

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

bool exists(const std::string& path) {
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    std::fclose(f);
    return true;
  }
  return false;
}

Tensor int64_tensor(const std::vector<int64_t>& values) {
  Tensor t = empty({int64_t(values.size())}, DType::Int64);
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

} // namespace

Tensor read_idx(const std::string& path) {
  std::vector<unsigned char> bytes = read_file(path);
  size_t offset = 0;
  Shape dims = idx_dims(bytes, path, offset);
  Tensor t = empty(dims, DType::UInt8);
  std::copy(bytes.begin() + std::ptrdiff_t(offset),
            bytes.begin() + std::ptrdiff_t(offset) + std::ptrdiff_t(t.numel()), t.data<uint8_t>());
  return t;
}

Sample collate(const std::vector<Sample>& samples) {
  EMBER_CHECK(!samples.empty(), Value, "ember::data::collate", "got no samples");
  const size_t fields = samples[0].size();
  Sample out;
  for (size_t f = 0; f < fields; ++f) {
    std::vector<Tensor> column;
    for (size_t i = 0; i < samples.size(); ++i) {
      EMBER_CHECK(samples[i].size() == fields, Value, "ember::data::collate", "sample ", i,
                  " has ", samples[i].size(), " fields, sample 0 has ", fields);
      column.push_back(samples[i][f]);
    }
    out.push_back(stack(column, 0));
  }
  return out;
}

Sample Dataset::get_batch(const std::vector<int64_t>& indices) const {
  std::vector<Sample> samples;
  samples.reserve(indices.size());
  for (int64_t i : indices) samples.push_back(get(i));
  return collate(samples);
}

TensorDataset::TensorDataset(std::vector<Tensor> tensors) : tensors_(std::move(tensors)) {
  const char* op = "ember::data::TensorDataset";
  EMBER_CHECK(!tensors_.empty(), Value, op, "needs at least one tensor");
  for (size_t i = 0; i < tensors_.size(); ++i) {
    EMBER_CHECK(tensors_[i].defined() && tensors_[i].dim() >= 1, Value, op, "tensor ", i,
                " must be defined and have at least one dimension");
    EMBER_CHECK(tensors_[i].shape()[0] == tensors_[0].shape()[0], Value, op,
                "Size mismatch between tensors: tensor 0 has shape ",
                shape_str(tensors_[0].shape()), ", tensor ", i, " has shape ",
                shape_str(tensors_[i].shape()), " (their first dimensions must agree)");
  }
}

int64_t TensorDataset::size() const { return tensors_.empty() ? 0 : tensors_[0].shape()[0]; }

Sample TensorDataset::get(int64_t index) const {
  EMBER_CHECK(index >= 0 && index < size(), Index, "ember::data::TensorDataset", "index ", index,
              " is out of range for a dataset of ", size(), " samples");
  Sample out;
  for (const Tensor& t : tensors_) out.push_back(select(t, 0, index));
  return out;
}

Sample TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices)
    EMBER_CHECK(i >= 0 && i < size(), Index, "ember::data::TensorDataset", "index ", i,
                " is out of range for a dataset of ", size(), " samples");
  const Tensor idx = int64_tensor(indices);
  Sample out;
  for (const Tensor& t : tensors_) out.push_back(index_select(t, 0, idx));
  return out;
}

MNIST::MNIST(const std::string& root, bool train, double mean, double std)
    : MNIST(root, train, mean, std, "MNIST", "EMBER_MNIST_ROOT", "/usr/share/datasets/mnist") {}

MNIST::MNIST(const std::string& root_arg, bool train, double mean, double std, const char* name,
             const char* env, const char* default_root) {
  const std::string op = std::string("ember::data::") + name;
  EMBER_CHECK(std > 0, Value, op, "std must be positive, got ", std);
  std::string root = root_arg;
  if (root.empty()) root = std::getenv(env) ? std::getenv(env) : default_root;
  const std::vector<std::string> dirs = {root, root + "/" + name + "/raw"};
  auto locate = [&](const std::string& file) {
    for (const std::string& d : dirs)
      for (const std::string& candidate : {d + "/" + file, d + "/" + file + ".gz"})
        if (exists(candidate)) return candidate;
    fail(ErrorKind::Value, op, "cannot find ", file, "[.gz] in ", dirs[0], " or ", dirs[1],
         "; pass root = the directory that holds the IDX files");
  };
  const std::string prefix = train ? "train" : "t10k";
  const std::string ipath = locate(prefix + "-images-idx3-ubyte");
  const std::string lpath = locate(prefix + "-labels-idx1-ubyte");
  Tensor raw = read_idx(ipath), labels = read_idx(lpath);
  EMBER_CHECK(raw.dim() == 3 && labels.dim() == 1 && raw.shape()[0] == labels.shape()[0], Value,
              op, "'", ipath, "' (shape ", shape_str(raw.shape()), ") and '", lpath, "' (shape ",
              shape_str(labels.shape()), ") do not match");
  const int64_t n = raw.shape()[0], h = raw.shape()[1], w = raw.shape()[2];
  Tensor images = empty({n, 1, h, w});
  const uint8_t* src = raw.data<uint8_t>();
  float* px = images.data_ptr();
  for (int64_t i = 0; i < n * h * w; ++i) px[i] = float((src[i] / 255.0 - mean) / std);
  Tensor targets = empty({n}, DType::Int64);
  const uint8_t* ls = labels.data<uint8_t>();
  std::copy(ls, ls + n, targets.data<int64_t>());
  tensors_ = {images, targets};
}

FashionMNIST::FashionMNIST(const std::string& root, bool train, double mean, double std)
    : MNIST(root, train, mean, std, "FashionMNIST", "EMBER_FASHION_MNIST_ROOT",
            "/usr/share/datasets/fashion-mnist") {}

// One pass over the batches: with workers, they take batch numbers in order and park results
// until the consumer reaches them, never more than `window` batches ahead of it.
struct DataLoader::Epoch {
  std::shared_ptr<Dataset> dataset;
  std::vector<std::vector<int64_t>> batches;
  size_t next = 0, issued = 0, window = 0;
  bool stop = false;
  std::mutex mu;
  std::condition_variable ready_cv, space_cv;
  std::map<size_t, Sample> ready;
  std::map<size_t, std::exception_ptr> errors;
  std::vector<std::thread> threads;

  void start(int64_t workers, int64_t prefetch) {
    window = size_t(workers * prefetch);
    for (int64_t w = 0; w < workers; ++w) threads.emplace_back([this] { work(); });
  }

  void work() {
    for (;;) {
      size_t k;
      {
        std::unique_lock<std::mutex> lock(mu);
        space_cv.wait(lock, [&] {
          return stop || issued >= batches.size() || issued < next + window;
        });
        if (stop || issued >= batches.size()) return;
        k = issued++;
      }
      Sample s;
      std::exception_ptr error;
      try {
        s = dataset->get_batch(batches[k]);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (error) errors[k] = error;
        else ready[k] = std::move(s);
      }
      ready_cv.notify_all();
    }
  }

  bool fetch(Sample& out) {
    if (next >= batches.size()) return false;
    if (threads.empty()) {
      out = dataset->get_batch(batches[next++]);
      return true;
    }
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready_cv.wait(lock, [&] { return ready.count(next) || errors.count(next); });
      if (auto e = errors.find(next); e != errors.end()) {
        error = e->second;
        errors.erase(e);
      } else {
        out = std::move(ready[next]);
        ready.erase(next);
      }
      ++next;
    }
    space_cv.notify_all();
    if (error) std::rethrow_exception(error);
    return true;
  }

  ~Epoch() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    space_cv.notify_all();
    for (std::thread& t : threads) t.join();
  }
};

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size, bool shuffle,
                       int64_t num_workers, bool drop_last, std::optional<uint64_t> seed,
                       int64_t prefetch_factor)
    : dataset_(std::move(dataset)), batch_size_(batch_size), num_workers_(num_workers),
      prefetch_factor_(prefetch_factor), shuffle_(shuffle), drop_last_(drop_last) {
  const char* op = "ember::data::DataLoader";
  EMBER_CHECK(dataset_ != nullptr, Value, op, "dataset is null");
  EMBER_CHECK(batch_size > 0, Value, op, "batch_size should be a positive integer value, but got "
              "batch_size=", batch_size);
  EMBER_CHECK(num_workers >= 0, Value, op, "num_workers option should be non-negative, got ",
              num_workers);
  EMBER_CHECK(prefetch_factor > 0, Value, op, "prefetch_factor must be positive, got ",
              prefetch_factor);
  if (seed) rng_.emplace(*seed);
}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

DataLoader::iterator DataLoader::begin() {
  const int64_t n = dataset_->size();
  std::vector<int64_t> order(size_t(std::max<int64_t>(n, 0)));
  if (!shuffle_) {
    std::iota(order.begin(), order.end(), int64_t(0));
  } else if (rng_) {
    std::iota(order.begin(), order.end(), int64_t(0));
    for (int64_t i = n - 1; i > 0; --i) {
      std::uniform_int_distribution<int64_t> pick(0, i);
      std::swap(order[size_t(i)], order[size_t(pick(*rng_))]);
    }
  } else {
    Tensor perm = randperm(n);
    std::copy(perm.data<int64_t>(), perm.data<int64_t>() + n, order.begin());
  }
  auto epoch = std::make_shared<Epoch>();
  epoch->dataset = dataset_;
  for (int64_t b = 0; b < size(); ++b) {
    const int64_t lo = b * batch_size_, hi = std::min(n, lo + batch_size_);
    epoch->batches.emplace_back(order.begin() + lo, order.begin() + hi);
  }
  if (num_workers_ > 0 && !epoch->batches.empty()) epoch->start(num_workers_, prefetch_factor_);
  iterator it;
  it.epoch_ = std::move(epoch);
  ++it;
  return it;
}

DataLoader::iterator& DataLoader::iterator::operator++() {
  if (epoch_ && !epoch_->fetch(batch_)) {
    epoch_.reset();
    batch_.clear();
  }
  return *this;
}

ImageSet load_fashion_mnist(const std::string& split, const std::string& dir, double mean,
                            double std) {
  EMBER_CHECK(split == "train" || split == "t10k", Value, "ember::data::load_fashion_mnist",
              "split must be 'train' or 't10k', got '", split, "'");
  FashionMNIST set(dir, split == "train", mean, std);
  return ImageSet{set.images(), set.targets()};
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
