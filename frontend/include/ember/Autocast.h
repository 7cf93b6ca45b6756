// Automatic mixed precision (torch.autocast): per-thread state, the RAII guard, and the op
// policy that ember's matmul/conv/norm/loss functions consult at their entry.
#pragma once

#include "ember/Tensor.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace ember {

// Per thread and per device type (CPU, CUDA): enabled flag and the lower-precision dtype
// (defaults: CPU bfloat16, CUDA float16), as torch.is_autocast_enabled / get_autocast_dtype.
bool is_autocast_enabled(DeviceType device);
void set_autocast_enabled(DeviceType device, bool enabled);
DType get_autocast_dtype(DeviceType device);
void set_autocast_dtype(DeviceType device, DType dtype);
bool is_autocast_cache_enabled();
void set_autocast_cache_enabled(bool enabled);
// Nesting of autocast regions; leaving the outermost one clears the cast cache.
int autocast_increment_nesting();
int autocast_decrement_nesting();
void clear_autocast_cache();
// "cpu" / "cuda" (an index after ':' is ignored); raises RuntimeError naming `op` otherwise.
DeviceType autocast_device_type(const std::string& device_type, const char* op);

// with torch.autocast(device_type, dtype, enabled, cache_enabled): sets the state for this
// thread and restores the previous one when it goes out of scope. An unsupported dtype raises
// TypeError (Python's ember.autocast warns and disables instead, as torch does).
class AutocastGuard {
public:
  explicit AutocastGuard(const std::string& device_type, std::optional<DType> dtype = std::nullopt,
                         bool enabled = true, bool cache_enabled = true);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
  DeviceType device_;
  bool prev_enabled_, prev_cache_;
  DType prev_dtype_;
};

namespace autocast {

// The ops with an autocast policy (torch's lists in ATen/autocast_mode; which list an op is on
// can differ between CPU and CUDA: policy() says).
enum class Op {
  MatMul, MM, BMM, AddMM, BAddBMM, Linear, Conv, ConvTranspose, ScaledDotProductAttention,
  Einsum,
  Prod, CumSum, CumProd, Softmax, LogSoftmax, LogSumExp, VectorNorm,
  LayerNorm, GroupNorm, Softplus, Interpolate, PadReflectReplicate,
  MseLoss, L1Loss, SmoothL1Loss, HuberLoss, NllLoss, CrossEntropy, KlDiv,
  BinaryCrossEntropy, BinaryCrossEntropyWithLogits,
  AddCMul, AddCDiv, Dot, VDot, ScatterAdd, IndexPut, TensorDot, // keep TensorDot last
};
constexpr int kNumOps = int(Op::TensorDot) + 1;
enum class Policy { None, LowerPrecision, Float32, Promote, Banned };
Policy policy(Op op, DeviceType device);
const char* op_name(Op op);

// At an op's entry: when autocast is on for the inputs' device type and the op has a policy
// there, true, with the inputs cast by it (s[i]); while it lives, nested ops see autocast off
// (torch excludes its Autocast key inside an autocast-wrapped op). The op body then calls
// itself on the cast inputs:  if (autocast::Scope s{Op::MM, {a, b}}) return mm(s[0], s[1]);
class Scope {
public:
  Scope(Op op, std::initializer_list<Tensor> inputs) { init(op, inputs.begin(), inputs.size()); }
  Scope(Op op, const std::vector<Tensor>& inputs) { init(op, inputs.data(), inputs.size()); }
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  explicit operator bool() const { return active_; }
  const Tensor& operator[](size_t i) const { return inputs_[i]; }
  const std::vector<Tensor>& inputs() const { return inputs_; }

private:
  void init(Op op, const Tensor* inputs, size_t n); // copies the inputs only when it casts
  bool active_ = false;
  std::vector<Tensor> inputs_;
};

// PyTorch's mixed-type normalization: a float16/bfloat16 input whose defined parameters are
// all float32 computes in float32 and returns the input's dtype (what a norm layer with float32
// parameters gives under autocast).
bool mixed_norm(const Tensor& x, std::initializer_list<Tensor> params);

// Enabled for `device` and not inside an autocast-wrapped op or a backward pass: whether an
// op entry that applies a policy by hand (Python's CUDA float32 pointwise ops) should cast.
bool active(DeviceType device);

// Autocast off for this thread while alive (backward passes; composites that PyTorch runs as
// one kernel but ember builds from ops on the autocast lists, such as interpolate's matmuls).
class Exclude {
public:
  Exclude();
  ~Exclude();
  Exclude(const Exclude&) = delete;
  Exclude& operator=(const Exclude&) = delete;
};

} // namespace autocast
} // namespace ember
