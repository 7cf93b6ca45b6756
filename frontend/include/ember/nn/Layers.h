// More ember::nn layers, the activations as modules, containers and the losses, with PyTorch's
// names, constructor arguments, defaults and default initialisation. Each forward is the
// matching ember::nn::functional call.
#pragma once

#include "ember/Functional.h"
#include "ember/nn/Module.h"

#include <optional>
#include <string>

namespace ember::nn {

// Normalises over the trailing normalized_shape dims; weight ones, bias zeros.
class LayerNorm : public Module {
public:
  LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
            bool bias = true);
  Tensor forward(const Tensor& x) override;
  Shape normalized_shape;
  double eps;
  Tensor weight, bias;
};

// Batch normalisation over dim 1; running_mean/running_var/num_batches_tracked buffers updated
// in training mode (momentum; std::nullopt = cumulative average), used in eval mode.
class BatchNorm : public Module {
public:
  Tensor forward(const Tensor& x) override;
  int64_t num_features;
  double eps;
  std::optional<double> momentum;
  bool affine, track_running_stats;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

protected:
  BatchNorm(int64_t num_features, double eps, std::optional<double> momentum, bool affine,
            bool track_running_stats, int min_dim, int max_dim);

private:
  int min_dim_, max_dim_;
};
// Input [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true);
};
// Input [N, C, H, W].
class BatchNorm2d : public BatchNorm {
public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5,
                       std::optional<double> momentum = 0.1, bool affine = true,
                       bool track_running_stats = true);
};

// Zeroes each element with probability p and scales the rest by 1/(1-p) in training mode; the
// identity in eval mode.
class Dropout : public Module {
public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  double p;
};

// A lookup table [num_embeddings, embedding_dim] drawn from N(0, 1) (the padding_idx row zero);
// forward takes integer indices.
class Embedding : public Module {
public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt);
  Tensor forward(const Tensor& indices) override;
  std::optional<int64_t> padding_idx;
  Tensor weight;
};

class AvgPool2d : public Module {
public:
  // An empty stride means stride = kernel_size.
  explicit AvgPool2d(Shape kernel_size, Shape stride = {}, Shape padding = {0},
                     bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<int64_t> divisor_override = std::nullopt);
  Tensor forward(const Tensor& x) override;
  Shape kernel_size, stride, padding;
  bool ceil_mode, count_include_pad;
  std::optional<int64_t> divisor_override;
};

class AdaptiveAvgPool2d : public Module {
public:
  // One entry for both dims or two; an entry < 0 keeps that input size (PyTorch's None).
  explicit AdaptiveAvgPool2d(Shape output_size);
  Tensor forward(const Tensor& x) override;
  Shape output_size;
};

// approximate: "none" or "tanh".
class GELU : public Module {
public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& x) override;
  std::string approximate;
};
class Tanh : public Module {
public:
  Tensor forward(const Tensor& x) override;
};
class Sigmoid : public Module {
public:
  Tensor forward(const Tensor& x) override;
};
class SiLU : public Module {
public:
  Tensor forward(const Tensor& x) override;
};
class LeakyReLU : public Module {
public:
  explicit LeakyReLU(double negative_slope = 0.01);
  Tensor forward(const Tensor& x) override;
  double negative_slope;
};
class Softmax : public Module {
public:
  explicit Softmax(int64_t dim);
  Tensor forward(const Tensor& x) override;
  int64_t dim;
};
class LogSoftmax : public Module {
public:
  explicit LogSoftmax(int64_t dim);
  Tensor forward(const Tensor& x) override;
  int64_t dim;
};
class Identity : public Module {
public:
  Tensor forward(const Tensor& x) override { return x; }
};

// Holds submodules (named "0", "1", ...) for the user's own forward; it has no forward itself.
class ModuleList : public Module {
public:
  ModuleList() = default;
  explicit ModuleList(std::vector<std::shared_ptr<Module>> modules);
  ModuleList& push_back(std::shared_ptr<Module> m);
  size_t size() const { return modules_.size(); }
  // Negative i counts from the end; ember::Error (Index) out of range.
  std::shared_ptr<Module> operator[](int64_t i) const;
  std::vector<std::shared_ptr<Module>>::const_iterator begin() const { return modules_.begin(); }
  std::vector<std::shared_ptr<Module>>::const_iterator end() const { return modules_.end(); }

private:
  std::vector<std::shared_ptr<Module>> modules_;
};

// Losses: forward(input, target); reduction "none" | "mean" | "sum". A class weight (and
// BCEWithLogitsLoss's pos_weight) is a buffer, so it is in the state dict.
class Loss : public Module {
public:
  using Module::forward;
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  std::string reduction;

protected:
  Loss(std::string reduction, const char* op);
  functional::Reduction reduction_;
};

class CrossEntropyLoss : public Loss {
public:
  explicit CrossEntropyLoss(Tensor weight = Tensor(), int64_t ignore_index = -100,
                            std::string reduction = "mean", double label_smoothing = 0);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
  int64_t ignore_index;
  double label_smoothing;
};
class NLLLoss : public Loss {
public:
  explicit NLLLoss(Tensor weight = Tensor(), int64_t ignore_index = -100,
                   std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
  int64_t ignore_index;
};
class MSELoss : public Loss {
public:
  explicit MSELoss(std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
class L1Loss : public Loss {
public:
  explicit L1Loss(std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
};
class BCEWithLogitsLoss : public Loss {
public:
  explicit BCEWithLogitsLoss(Tensor weight = Tensor(), std::string reduction = "mean",
                             Tensor pos_weight = Tensor());
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight, pos_weight;
};

// ---- More layers (frontend/src/nn/MoreLayers.cpp) ----

// Normalises [N, C, *] over groups of C / num_groups channels; weight ones, bias zeros [C].
class GroupNorm : public Module {
public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  int64_t num_groups, num_channels;
  double eps;
  Tensor weight, bias;
};

// [N, C_in, L] (or [C_in, L]) → [N, C_out, L_out]; weight [out, in / groups, k].
class Conv1d : public Module {
public:
  Conv1d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
         int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  int64_t stride, padding, dilation, groups;
};

// The adjoint of Conv2d; weight [in, out / groups, k, k] (PyTorch's layout and initialisation).
class ConvTranspose2d : public Module {
public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                  int64_t stride = 1, int64_t padding = 0, int64_t output_padding = 0,
                  int64_t groups = 1, bool bias = true, int64_t dilation = 1);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  int64_t stride, padding, output_padding, groups, dilation;
};

// Splits dimension dim into sizes (one entry may be -1).
class Unflatten : public Module {
public:
  Unflatten(int64_t dim, Shape sizes);
  Tensor forward(const Tensor& x) override;
  int64_t dim;
  Shape sizes;
};

// Holds named submodules (insertion order) for the user's own forward; a key set again replaces
// its module in place.
class ModuleDict : public Module {
public:
  ModuleDict() = default;
  explicit ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> modules);
  ModuleDict& insert(const std::string& key, std::shared_ptr<Module> m);
  // ember::Error (Index) naming the key and the keys present when it is absent.
  std::shared_ptr<Module> operator[](const std::string& key) const;
  bool contains(const std::string& key) const;
  size_t size() const { return named_children().size(); }
  std::vector<std::string> keys() const;
};

// Holds parameters (named "0", "1", ...) for the user's own forward.
class ParameterList : public Module {
public:
  ParameterList() = default;
  explicit ParameterList(std::vector<Tensor> parameters);
  // Registers p (it becomes a leaf requiring grad) and returns *this.
  ParameterList& append(Tensor p);
  size_t size() const { return items_.size(); }
  // Negative i counts from the end; ember::Error (Index) out of range.
  Tensor operator[](int64_t i) const;
  std::vector<Tensor>::const_iterator begin() const { return items_.begin(); }
  std::vector<Tensor>::const_iterator end() const { return items_.end(); }

private:
  std::vector<Tensor> items_;
};

// 0.5 (x - y)^2 / beta where |x - y| < beta, else |x - y| - 0.5 beta.
class SmoothL1Loss : public Loss {
public:
  explicit SmoothL1Loss(std::string reduction = "mean", double beta = 1.0);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double beta;
};
// 0.5 (x - y)^2 where |x - y| < delta, else delta (|x - y| - 0.5 delta).
class HuberLoss : public Loss {
public:
  explicit HuberLoss(std::string reduction = "mean", double delta = 1.0);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double delta;
};
// Binary cross-entropy on probabilities; weight (a buffer) rescales each element.
class BCELoss : public Loss {
public:
  explicit BCELoss(Tensor weight = Tensor(), std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
};
// input: log-probabilities; target: probabilities (log-probabilities with log_target);
// reduction also "batchmean" (the sum over the batch size).
class KLDivLoss : public Loss {
public:
  explicit KLDivLoss(std::string reduction = "mean", bool log_target = false);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  bool log_target;
};

} // namespace ember::nn

// The recurrent and attention layers.
#include "ember/nn/Recurrent.h"
#include "ember/nn/Transformer.h"
