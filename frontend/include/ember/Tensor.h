// ember::Tensor: an n-dimensional view (shape, strides, offset) onto shared Storage, of one
// of ember's dtypes, on the CPU or a CUDA device. PyTorch's names and semantics (broadcasting, promotion).
#pragma once

#include "ember/runtime/Allocator.h"
#include "ember/runtime/DType.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ember {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& shape);
int64_t numel_of(const Shape& shape);
// Row-major (C-contiguous) strides in elements.
Shape contiguous_strides(const Shape& shape);
// PyTorch's broadcasting rule; throws ember::Error naming `op` and both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

struct Node;
class Tensor;
// Strides of `t` seen through its broadcast to `shape` (0 where t is broadcast).
Shape broadcast_strides(const Tensor& t, const Shape& shape);
struct LeafHooks; // tensor hooks of a leaf (frontend/include/ember/Graph.h)

struct TensorImpl {
  std::shared_ptr<Storage> storage; // null for symbolic (traced) tensors
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  DType dtype = DType::Float32;
  bool wrapped_number = false;      // made from a Python scalar: weaker in type promotion
  bool symbolic = false;            // a value in a trace: has a shape, no data
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;    // the node that produced it (autograd or trace)
  std::shared_ptr<TensorImpl> grad; // accumulated by backward() on leaves
  std::shared_ptr<TensorImpl> view_base; // the tensor this is a view of (its storage's owner)
  const Node* view_base_fn = nullptr; // the base's grad_fn when this view's grad_fn was made
  std::shared_ptr<LeafHooks> hooks; // register_hook on a leaf
};

class Tensor {
public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& strides() const { return impl().strides; }
  int64_t storage_offset() const { return impl().offset; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t numel() const { return numel_of(shape()); }
  DType dtype() const { return impl().dtype; }
  // Where the data lives: the storage's device (the CPU for traced tensors).
  Device device() const;
  bool is_cuda() const { return device().is_cuda(); }
  bool is_contiguous() const;

  // Pointer to element [0, ..., 0] (storage offset applied): a device pointer for CUDA tensors.
  // data_ptr() is float32 only.
  float* data_ptr() const;
  void* raw_data() const;
  template <typename T>
  T* data() const { return static_cast<T*>(raw_data()); }
  bool is_wrapped_number() const { return impl().wrapped_number; }
  const std::shared_ptr<Storage>& storage() const { return impl().storage; }

  // Elements in row-major order converted to float, whatever the strides, dtype and device.
  std::vector<float> to_vector() const;
  // The value of a one-element tensor, converted to double.
  double item() const;
  // A copy converted to `dtype` (the tensor itself when it already has it).
  Tensor to(DType dtype) const;
  // A copy on `device` (the tensor itself when it is already there); CUDA needs a GPU.
  Tensor to(Device device) const;
  Tensor contiguous() const;

  // Autograd (frontend/src/Autograd.cpp).
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& set_requires_grad(bool value);
  bool is_leaf() const { return impl().grad_fn == nullptr || !impl().requires_grad; }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  Tensor grad() const;
  void set_grad(const Tensor& g);
  // Accumulates d(this)/d(leaf) into each leaf's .grad (or only into `inputs`' when given).
  // `gradient` may be omitted for a one-element tensor; create_graph records the backward ops
  // for higher derivatives; the graph's saved tensors are freed unless retain_graph (default:
  // create_graph).
  void backward(const Tensor& gradient = Tensor(), bool create_graph = false,
                std::optional<bool> retain_graph = std::nullopt,
                const std::vector<Tensor>& inputs = {}) const;
  // The same data, cut from the graph.
  Tensor detach() const;
  // Cuts this tensor itself from the graph (it becomes a leaf that does not require grad).
  Tensor& detach_();
  // The version counter of the storage (bumped by in-place writes).
  uint64_t version() const;
  const std::shared_ptr<TensorImpl>& shared_impl() const { return impl_; }

  bool is_symbolic() const { return impl().symbolic; }
  TensorImpl* unsafe_impl() const { return impl_.get(); }

  Tensor operator+(const Tensor& other) const;
  Tensor operator*(const Tensor& other) const;

private:
  const TensorImpl& impl() const;
  TensorImpl& mutable_impl() const;
  std::shared_ptr<TensorImpl> impl_;
};

Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device());
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32,
            Device device = Device());
// A 0-d tensor for a Python scalar (PyTorch's "wrapped number").
Tensor wrapped_scalar(double value, DType dtype);
Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device());
Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device());
// Copies `values` (row-major) into a new tensor of `shape`; sizes must agree.
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
// Copies a strided buffer (strides in elements) into a new contiguous tensor.
Tensor copy_from(const float* data, const Shape& shape, const Shape& strides);
Tensor copy_from(const void* data, DType dtype, const Shape& shape, const Shape& strides);

// A tensor of `shape` with no data: a value in a trace (frontend/src/Trace.cpp).
Tensor symbolic(const Shape& shape, DType dtype = DType::Float32);

} // namespace ember
