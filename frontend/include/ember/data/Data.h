// ember::data for C++ users: datasets (Dataset, TensorDataset, FashionMNIST / MNIST from IDX
// files), the DataLoader (batches, seeded shuffling, drop_last, prefetching worker threads that
// give the same batches as num_workers = 0), and the older ImageSet / BatchIterator.
#pragma once

#include "ember/Tensor.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ember::data {

// One sample (or one batch): its fields, e.g. {image, label}.
using Sample = std::vector<Tensor>;

// Stacks each field of the samples along a new dim 0 (PyTorch's default_collate for tensors).
Sample collate(const std::vector<Sample>& samples);

// A map-style dataset: size() samples, get(i) for 0 <= i < size(). get may be called from
// several DataLoader worker threads at once.
class Dataset {
public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Sample get(int64_t index) const = 0;
  // The samples at `indices`, collated; the default stacks get(i)'s, datasets backed by whole
  // tensors gather each field at once.
  virtual Sample get_batch(const std::vector<int64_t>& indices) const;
};

// Samples are the i-th rows of tensors that share their first dimension.
class TensorDataset : public Dataset {
public:
  explicit TensorDataset(std::vector<Tensor> tensors);
  int64_t size() const override;
  Sample get(int64_t index) const override;
  Sample get_batch(const std::vector<int64_t>& indices) const override;
  const std::vector<Tensor>& tensors() const { return tensors_; }

protected:
  TensorDataset() = default;
  std::vector<Tensor> tensors_;
};

// The IDX files of MNIST / Fashion-MNIST ("{train,t10k}-{images-idx3,labels-idx1}-ubyte", gzipped
// or not) in root or root/<Name>/raw. Samples: image float32 [1, 28, 28] = (pixel / 255 - mean)
// / std (PyTorch's ToTensor then Normalize), label int64 []. A missing file is an ember::Error
// naming it.
class MNIST : public TensorDataset {
public:
  // root "" = $EMBER_MNIST_ROOT or /usr/share/datasets/mnist.
  explicit MNIST(const std::string& root = "", bool train = true, double mean = 0, double std = 1);
  const Tensor& images() const { return tensors_[0]; }
  const Tensor& targets() const { return tensors_[1]; }

protected:
  MNIST(const std::string& root, bool train, double mean, double std, const char* name,
        const char* env, const char* default_root);
};
// root "" = $EMBER_FASHION_MNIST_ROOT or /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist).
class FashionMNIST : public MNIST {
public:
  explicit FashionMNIST(const std::string& root = "", bool train = true, double mean = 0,
                        double std = 1);
};

// An IDX file of unsigned bytes as a uint8 tensor of its dimensions.
Tensor read_idx(const std::string& path);

// Batches of a dataset, like torch.utils.data.DataLoader: in order, or shuffled each epoch
// (each call of begin()) by a permutation from `seed` (the same seed, the same epochs) or, with
// no seed, from ember's global generator (ember::manual_seed); the last short batch is dropped
// with drop_last. num_workers > 0 collates batches on that many threads, up to
// prefetch_factor * num_workers ahead, and yields exactly the batches num_workers = 0 would;
// a worker's error is raised when its batch is reached.
class DataLoader {
  struct Epoch;

public:
  DataLoader(std::shared_ptr<Dataset> dataset, int64_t batch_size = 1, bool shuffle = false,
             int64_t num_workers = 0, bool drop_last = false,
             std::optional<uint64_t> seed = std::nullopt, int64_t prefetch_factor = 2);
  // Batches per epoch.
  int64_t size() const;

  class iterator {
  public:
    const Sample& operator*() const { return batch_; }
    const Sample* operator->() const { return &batch_; }
    iterator& operator++();
    bool operator==(const iterator& o) const { return epoch_ == o.epoch_; }
    bool operator!=(const iterator& o) const { return epoch_ != o.epoch_; }

  private:
    friend class DataLoader;
    std::shared_ptr<Epoch> epoch_; // null at the end
    Sample batch_;
  };
  // Starts an epoch (a new order when shuffling).
  iterator begin();
  iterator end() { return iterator(); }

private:
  std::shared_ptr<Dataset> dataset_;
  int64_t batch_size_, num_workers_, prefetch_factor_;
  bool shuffle_, drop_last_;
  std::optional<std::mt19937_64> rng_;
};

// Older helpers (examples/lenet_cpp): an IDX image/label set as whole tensors, images float32
// [N, 1, 28, 28] normalised with (x / 255 - mean) / std, labels int64 [N].
struct ImageSet {
  Tensor images, labels;
  int64_t size() const { return labels.numel(); }
};
// `split` is "train" or "t10k"; dir defaults to Debian's dataset-fashion-mnist location.
ImageSet load_fashion_mnist(const std::string& split,
                            const std::string& dir = "/usr/share/datasets/fashion-mnist",
                            double mean = 0.2860, double std = 0.3530);

// Batches of an ImageSet in a (seeded, ember::manual_seed) random order when shuffle is set.
class BatchIterator {
public:
  BatchIterator(const ImageSet& set, int64_t batch_size, bool shuffle, bool drop_last = true);
  // The next (images, labels) batch; false after the last one.
  bool next(Tensor& images, Tensor& labels);

private:
  const ImageSet& set_;
  int64_t batch_, at_ = 0;
  bool drop_last_;
  Tensor order_;
};

} // namespace ember::data
