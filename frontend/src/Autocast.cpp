// Autocast state (per thread), AutocastGuard, and the op policy (torch's autocast op lists).
#include "ember/Autocast.h"

#include "ember/Graph.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <unordered_map>

namespace ember {
namespace {

struct CacheEntry {
  Tensor source; // keeps the key's TensorImpl alive, so the address is not reused
  uint64_t version;
  Tensor cast;
};

struct State {
  bool enabled[2] = {false, false};
  DType dtype[2] = {DType::BFloat16, DType::Float16}; // CPU, CUDA
  bool cache_enabled = true;
  int nesting = 0;
  int excluded = 0;
  // Lower-precision copies of leaf tensors that require grad (parameters), reused within the
  // outermost autocast region as torch does.
  std::unordered_map<const TensorImpl*, CacheEntry> cache;
};

State& state() {
  thread_local State s;
  return s;
}

int index(DeviceType d) { return d == DeviceType::CUDA ? 1 : 0; }
const char* device_name(DeviceType d) { return d == DeviceType::CUDA ? "cuda" : "cpu"; }

bool supported_dtype(DType d) { return d == DType::BFloat16 || d == DType::Float16; }

bool eligible(const Tensor& t, DeviceType device) {
  return t.defined() && is_floating(t.dtype()) && t.dtype() != DType::Float64 &&
         t.device().type == device;
}

Tensor cast_lower(const Tensor& t, DType to) {
  State& s = state();
  const bool cacheable = s.cache_enabled && s.nesting > 0 && grad_enabled() && t.is_leaf() &&
                         t.requires_grad() && !t.is_symbolic();
  if (cacheable) {
    auto it = s.cache.find(t.unsafe_impl());
    if (it != s.cache.end() && it->second.version == t.version() && it->second.cast.dtype() == to)
      return it->second.cast;
  }
  Tensor out = cast(t, to);
  if (cacheable && !out.is_symbolic()) s.cache[t.unsafe_impl()] = {t, t.version(), out};
  return out;
}

} // namespace

bool is_autocast_enabled(DeviceType device) { return state().enabled[index(device)]; }
void set_autocast_enabled(DeviceType device, bool enabled) {
  state().enabled[index(device)] = enabled;
}
DType get_autocast_dtype(DeviceType device) { return state().dtype[index(device)]; }
void set_autocast_dtype(DeviceType device, DType dtype) { state().dtype[index(device)] = dtype; }
bool is_autocast_cache_enabled() { return state().cache_enabled; }
void set_autocast_cache_enabled(bool enabled) { state().cache_enabled = enabled; }
int autocast_increment_nesting() { return ++state().nesting; }
int autocast_decrement_nesting() {
  State& s = state();
  if (s.nesting > 0) --s.nesting;
  return s.nesting;
}
void clear_autocast_cache() { state().cache.clear(); }

DeviceType autocast_device_type(const std::string& device_type, const char* op) {
  const std::string type = device_type.substr(0, device_type.find(':'));
  if (type == "cpu") return DeviceType::CPU;
  if (type == "cuda") return DeviceType::CUDA;
  fail(ErrorKind::Runtime, op, "device_type must be 'cpu' or 'cuda' (ember has no other autocast "
       "device), got '", device_type, "'");
}

AutocastGuard::AutocastGuard(const std::string& device_type, std::optional<DType> dtype,
                             bool enabled, bool cache_enabled)
    : device_(autocast_device_type(device_type, "ember::AutocastGuard")) {
  const DType to = dtype ? *dtype : get_autocast_dtype(device_);
  EMBER_CHECK(!enabled || supported_dtype(to), Type, "ember::AutocastGuard", device_name(device_),
              " autocast supports only bfloat16 and float16, got ", dtype_name(to));
  State& s = state();
  prev_enabled_ = s.enabled[index(device_)];
  prev_dtype_ = s.dtype[index(device_)];
  prev_cache_ = s.cache_enabled;
  s.enabled[index(device_)] = enabled;
  s.dtype[index(device_)] = to;
  s.cache_enabled = cache_enabled;
  autocast_increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  State& s = state();
  if (autocast_decrement_nesting() == 0) s.cache.clear();
  s.enabled[index(device_)] = prev_enabled_;
  s.dtype[index(device_)] = prev_dtype_;
  s.cache_enabled = prev_cache_;
}

namespace autocast {

// CPU lists: torch's autocast_mode.cpp (lower_precision_fp, fp32, promote for CPU); CUDA:
// AT_FORALL_LOWER_PRECISION_FP, AT_FORALL_FP32, AT_FORALL_FP32_SET_OPT_DTYPE, AT_FORALL_PROMOTE
// and the banned binary_cross_entropy. An op on neither list of a device (einsum and
// tensordot on the CPU) gets its casts from the listed ops it is made of, as in torch.
Policy policy(Op op, DeviceType device) {
  const bool cuda = device == DeviceType::CUDA;
  switch (op) {
  case Op::MatMul: case Op::MM: case Op::BMM: case Op::AddMM: case Op::BAddBMM: case Op::Linear:
  case Op::Conv: case Op::ConvTranspose: case Op::ScaledDotProductAttention:
    return Policy::LowerPrecision;
  case Op::Einsum: return cuda ? Policy::LowerPrecision : Policy::None;
  case Op::Prod:
  case Op::MseLoss: case Op::L1Loss: case Op::SmoothL1Loss: case Op::HuberLoss: case Op::NllLoss:
  case Op::KlDiv: case Op::BinaryCrossEntropyWithLogits:
    return Policy::Float32;
  case Op::CrossEntropy: // CUDA: log_softmax and nll_loss, both float32
  case Op::PadReflectReplicate:
    return cuda ? Policy::None : Policy::Float32;
  case Op::BinaryCrossEntropy: return cuda ? Policy::Banned : Policy::Float32;
  case Op::CumSum: case Op::CumProd: case Op::Softmax: case Op::LogSoftmax: case Op::LogSumExp:
  case Op::VectorNorm: case Op::LayerNorm: case Op::GroupNorm: case Op::Softplus:
  case Op::Interpolate:
    return cuda ? Policy::Float32 : Policy::None;
  case Op::AddCMul: case Op::AddCDiv: case Op::Dot: case Op::VDot: case Op::TensorDot:
  case Op::ScatterAdd: case Op::IndexPut:
    return cuda ? Policy::Promote : Policy::None;
  }
  return Policy::None;
}

const char* op_name(Op op) {
  switch (op) {
  case Op::MatMul: return "matmul";
  case Op::MM: return "mm";
  case Op::BMM: return "bmm";
  case Op::AddMM: return "addmm";
  case Op::BAddBMM: return "baddbmm";
  case Op::Linear: return "linear";
  case Op::Conv: return "conv";
  case Op::ConvTranspose: return "conv_transpose";
  case Op::ScaledDotProductAttention: return "scaled_dot_product_attention";
  case Op::Einsum: return "einsum";
  case Op::Prod: return "prod";
  case Op::CumSum: return "cumsum";
  case Op::CumProd: return "cumprod";
  case Op::Softmax: return "softmax";
  case Op::LogSoftmax: return "log_softmax";
  case Op::LogSumExp: return "logsumexp";
  case Op::VectorNorm: return "vector_norm";
  case Op::LayerNorm: return "layer_norm";
  case Op::GroupNorm: return "group_norm";
  case Op::Softplus: return "softplus";
  case Op::Interpolate: return "interpolate";
  case Op::PadReflectReplicate: return "pad";
  case Op::MseLoss: return "mse_loss";
  case Op::L1Loss: return "l1_loss";
  case Op::SmoothL1Loss: return "smooth_l1_loss";
  case Op::HuberLoss: return "huber_loss";
  case Op::NllLoss: return "nll_loss";
  case Op::CrossEntropy: return "cross_entropy";
  case Op::KlDiv: return "kl_div";
  case Op::BinaryCrossEntropy: return "binary_cross_entropy";
  case Op::BinaryCrossEntropyWithLogits: return "binary_cross_entropy_with_logits";
  case Op::AddCMul: return "addcmul";
  case Op::AddCDiv: return "addcdiv";
  case Op::Dot: return "dot";
  case Op::VDot: return "vdot";
  case Op::TensorDot: return "tensordot";
  case Op::ScatterAdd: return "scatter_add";
  case Op::IndexPut: return "index_put";
  }
  return "?";
}

void Scope::init(Op op, const Tensor* in, size_t n) {
  State& s = state();
  if (s.excluded > 0 || (!s.enabled[0] && !s.enabled[1])) return;
  std::vector<Tensor> inputs(in, in + n);
  DeviceType device = DeviceType::CPU;
  for (const Tensor& t : inputs)
    if (t.defined() && t.is_cuda()) device = DeviceType::CUDA;
  if (!s.enabled[index(device)]) return;
  const Policy p = policy(op, device);
  if (p == Policy::None) return;
  if (p == Policy::Banned)
    fail(ErrorKind::Runtime, std::string("ember.nn.functional.") + op_name(op),
         "binary_cross_entropy and BCELoss are unsafe to autocast: many models put a sigmoid "
         "right before it, so combine the two with ember.nn.functional."
         "binary_cross_entropy_with_logits or ember.nn.BCEWithLogitsLoss, which are safe to "
         "autocast");
  const DType lower = s.dtype[index(device)];
  DType to = p == Policy::LowerPrecision ? lower : DType::Float32;
  if (p == Policy::Promote) {
    // torch's prioritize(): float32 wins over the lower-precision dtype; float64 is ignored.
    to = lower;
    for (const Tensor& t : inputs)
      if (eligible(t, device)) to = promote_types(to, t.dtype());
  }
  for (Tensor& t : inputs)
    if (eligible(t, device) && t.dtype() != to)
      t = p == Policy::LowerPrecision ? cast_lower(t, to) : cast(t, to);
  inputs_ = std::move(inputs);
  active_ = true;
  ++s.excluded;
}

Scope::~Scope() {
  if (active_) --state().excluded;
}

bool mixed_norm(const Tensor& x, std::initializer_list<Tensor> params) {
  if (x.dtype() != DType::BFloat16 && x.dtype() != DType::Float16) return false;
  bool any = false;
  for (const Tensor& p : params) {
    if (!p.defined()) continue;
    if (p.dtype() != DType::Float32) return false;
    any = true;
  }
  return any;
}

bool active(DeviceType device) {
  const State& s = state();
  return s.excluded == 0 && s.enabled[index(device)];
}

Exclude::Exclude() { ++state().excluded; }
Exclude::~Exclude() { --state().excluded; }

} // namespace autocast
} // namespace ember
