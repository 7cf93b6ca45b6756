#include "ember/Tensor.h"

#include "TraceState.h"

#include "CudaOps.h"
#include "ember/runtime/Cuda.h"

#include "ember/Ops.h"
#include "ember/kernels/Elementwise.h"
#include "ember/runtime/Error.h"

#include <cstring>
#include <sstream>

namespace ember {

std::string shape_str(const Shape& shape) {
  Text os;
  os << "[";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  os << "]";
  return os.str();
}

int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(ErrorKind::Value, op, "shapes ", shape_str(a), " and ", shape_str(b),
           " are not broadcastable (dimension ", i, ": ", da, " vs ", db,
           "); make the sizes equal or 1, e.g. with unsqueeze or reshape");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape strides(shape.size(), 0);
  const size_t lead = shape.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i)
    strides[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return strides;
}

namespace {

void check_shape(const Shape& shape, const char* op) {
  int64_t n = 1;
  for (int64_t s : shape) {
    EMBER_CHECK(s >= 0, Value, op, "negative dimension ", s, " in shape ", shape_str(shape));
    EMBER_CHECK(s == 0 || n <= INT64_MAX / 64 / s, Value, op, "shape ", shape_str(shape),
                " has too many elements");
    n *= s;
  }
}

} // namespace

const TensorImpl& Tensor::impl() const {
  EMBER_CHECK(impl_ != nullptr, Runtime, "ember.Tensor", "use of an undefined tensor");
  return *impl_;
}

TensorImpl& Tensor::mutable_impl() const {
  EMBER_CHECK(impl_ != nullptr, Runtime, "ember.Tensor", "use of an undefined tensor");
  return *impl_;
}

bool Tensor::is_contiguous() const {
  int64_t s = 1;
  for (size_t d = shape().size(); d-- > 0;) {
    if (shape()[d] != 1 && strides()[d] != s) return false;
    s *= shape()[d];
  }
  return true;
}

void* Tensor::raw_data() const {
  // A parameter, buffer or closed-over tensor under a trace is a graph input too: its value at
  // trace time is not the one later calls see (x * s.item() baked s in).
  EMBER_CHECK(!impl().symbolic && !(detail::tracing_state() && &detail::traced_state(*this) != this),
              Runtime, "ember.Tensor",
              "cannot read the data of a traced tensor of shape ", shape_str(shape()),
              ": its value is only known when the compiled function runs (data-dependent "
              "operations such as item() or numpy() split the trace)");
  const auto& s = impl().storage;
  return s ? static_cast<char*>(s->data()) + impl().offset * itemsize(impl().dtype) : nullptr;
}

float* Tensor::data_ptr() const {
  EMBER_CHECK(dtype() == DType::Float32, Type, "ember.Tensor.data_ptr",
              "data_ptr() gives float32 data but the tensor is ", dtype_name(dtype()),
              "; use data<T>() or to(DType::Float32)");
  return static_cast<float*>(raw_data());
}

Tensor copy_from(const void* data, DType dtype, const Shape& shape, const Shape& strides) {
  check_shape(shape, "ember.copy_from");
  EMBER_CHECK(shape.size() == strides.size(), Value, "ember.copy_from", "shape ",
              shape_str(shape), " and strides ", shape_str(strides), " differ in length");
  Tensor t = empty(shape, dtype);
  if (t.numel() > 0)
    EMBER_DISPATCH(dtype, kernels::copy<T, T>({static_cast<const T*>(data), strides.data()},
                                              t.data<T>(), shape.data(),
                                              static_cast<int>(shape.size())));
  return t;
}

Tensor copy_from(const float* data, const Shape& shape, const Shape& strides) {
  return copy_from(static_cast<const void*>(data), DType::Float32, shape, strides);
}

Device Tensor::device() const {
  const auto& s = impl().storage;
  return s ? s->device() : Device();
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  if (is_cuda()) {
    Tensor out = empty(shape(), dtype(), device());
    detail::cuda_copy(out, *this);
    return out;
  }
  return copy_from(raw_data(), dtype(), shape(), strides());
}

Tensor Tensor::to(Device target) const {
  const Device source = device();
  if (target == source) return *this;
  if (target.is_cuda()) cuda::require("ember.Tensor.to", target.index);
  if (source.is_cuda() && target.is_cuda()) {
    Tensor out = empty(shape(), dtype(), target);
    Tensor src = contiguous();
    cuda::set_device(source.index);
    cuda::copy_device_to_device(out.raw_data(), src.raw_data(), size_t(numel()) * itemsize(dtype()));
    return out;
  }
  Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), target);
  const size_t bytes = size_t(numel()) * itemsize(dtype());
  cuda::set_device(source.is_cuda() ? source.index : target.index);
  if (target.is_cuda()) cuda::copy_host_to_device(out.raw_data(), src.raw_data(), bytes);
  else cuda::copy_device_to_host(out.raw_data(), src.raw_data(), bytes);
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  if (is_cuda()) {
    Tensor out = empty(shape(), target, device());
    detail::cuda_copy(out, *this);
    return out;
  }
  Tensor out = empty(shape(), target);
  if (numel() == 0) return out;
  DType source = dtype();
  EMBER_DISPATCH(target, using Out = T;
                 EMBER_DISPATCH(source, kernels::copy<Out, T>({data<T>(), strides().data()},
                                                              out.data<Out>(), shape().data(),
                                                              static_cast<int>(dim()))));
  return out;
}

std::vector<float> Tensor::to_vector() const {
  Tensor f = to(Device()).to(DType::Float32).contiguous();
  std::vector<float> out(static_cast<size_t>(numel()));
  if (!out.empty()) std::memcpy(out.data(), f.raw_data(), out.size() * sizeof(float));
  return out;
}

double Tensor::item() const {
  EMBER_CHECK(numel() == 1, Value, "ember.Tensor.item",
              "a Tensor with ", numel(), " elements (shape ", shape_str(shape()),
              ") cannot be converted to a scalar");
  if (is_cuda()) return to(Device()).item();
  double v = 0;
  EMBER_DISPATCH(dtype(), v = static_cast<double>(static_cast<compute_t<T>>(*data<T>())));
  return v;
}

Tensor empty(const Shape& shape, DType dtype, Device device) {
  check_shape(shape, "ember.empty");
  if (device.is_cuda()) cuda::require("ember.empty", device.index);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage =
      std::make_shared<Storage>(static_cast<size_t>(numel_of(shape)) * itemsize(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  if (device.is_cuda()) {
    detail::cuda_fill(t, value);
    return t;
  }
  EMBER_DISPATCH(dtype, {
    T* p = t.data<T>();
    const T v = static_cast<T>(static_cast<compute_t<T>>(value));
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = v;
  });
  return t;
}

Tensor wrapped_scalar(double value, DType dtype) {
  Tensor t = full({}, value, dtype);
  t.unsafe_impl()->wrapped_number = true;
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor from_vector(const std::vector<float>& values, const Shape& shape) {
  check_shape(shape, "ember.from_vector");
  EMBER_CHECK(numel_of(shape) == static_cast<int64_t>(values.size()), Value, "ember.from_vector",
              values.size(), " values do not fill shape ", shape_str(shape), " (",
              numel_of(shape), " elements)");
  Tensor t = empty(shape);
  if (!values.empty()) std::memcpy(t.data_ptr(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor symbolic(const Shape& shape, DType dtype) {
  check_shape(shape, "ember.symbolic");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->strides = contiguous_strides(shape);
  impl->symbolic = true;
  return Tensor(std::move(impl));
}

} // namespace ember
