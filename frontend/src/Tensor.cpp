#include "ember/Tensor.h"

#include "ember/kernels/Elementwise.h"
#include "ember/Ops.h"
#include "ember/runtime/Error.h"

#include <cstring>
#include <sstream>

namespace ember {

const char* dtype_name(DType dtype) {
  switch (dtype) {
  case DType::Float32:
    return "float32";
  }
  return "?";
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
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

namespace {

void check_shape(const Shape& shape, const char* op) {
  for (int64_t s : shape)
    EMBER_CHECK(s >= 0, Value, op, "negative dimension ", s, " in shape ", shape_str(shape));
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

bool Tensor::is_contiguous() const { return strides() == contiguous_strides(shape()); }

float* Tensor::data_ptr() const {
  EMBER_CHECK(!impl().symbolic, Runtime, "ember.Tensor",
              "cannot read the data of a traced tensor of shape ", shape_str(shape()),
              ": its value is only known when the compiled function runs (data-dependent "
              "operations such as item() or numpy() split the trace)");
  const auto& s = impl().storage;
  return s ? static_cast<float*>(s->data()) + impl().offset : nullptr;
}

std::vector<float> Tensor::to_vector() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  if (out.empty()) return out;
  if (is_contiguous()) {
    std::memcpy(out.data(), data_ptr(), out.size() * sizeof(float));
    return out;
  }
  kernels::copy_f32({data_ptr(), strides().data()}, out.data(), shape().data(),
                    static_cast<int>(dim()));
  return out;
}

float Tensor::item() const {
  EMBER_CHECK(numel() == 1, Value, "ember.Tensor.item",
              "a Tensor with ", numel(), " elements (shape ", shape_str(shape()),
              ") cannot be converted to a scalar");
  return to_vector()[0];
}

Tensor empty(const Shape& shape, DType dtype) {
  check_shape(shape, "ember.empty");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(numel_of(shape)) * sizeof(float));
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, float value, DType dtype) {
  Tensor t = empty(shape, dtype);
  float* p = t.data_ptr();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = value;
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.f, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.f, dtype); }

Tensor from_vector(const std::vector<float>& values, const Shape& shape) {
  check_shape(shape, "ember.from_vector");
  EMBER_CHECK(numel_of(shape) == static_cast<int64_t>(values.size()), Value, "ember.from_vector",
              values.size(), " values do not fill shape ", shape_str(shape), " (",
              numel_of(shape), " elements)");
  Tensor t = empty(shape);
  if (!values.empty()) std::memcpy(t.data_ptr(), values.data(), values.size() * sizeof(float));
  return t;
}

Tensor copy_from(const float* data, const Shape& shape, const Shape& strides) {
  check_shape(shape, "ember.copy_from");
  EMBER_CHECK(shape.size() == strides.size(), Value, "ember.copy_from", "shape ",
              shape_str(shape), " and strides ", shape_str(strides), " differ in length");
  Tensor t = empty(shape);
  if (t.numel() > 0)
    kernels::copy_f32({data, strides.data()}, t.data_ptr(), shape.data(),
                      static_cast<int>(shape.size()));
  return t;
}

Tensor symbolic(const Shape& shape) {
  check_shape(shape, "ember.symbolic");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->symbolic = true;
  return Tensor(std::move(impl));
}

} // namespace ember
