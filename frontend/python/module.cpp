// Python bindings: ember._C. The Python package (ember/__init__.py) builds the public API on it.
#include "ember/Creation.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/nn/Module.h"
#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/kernels/VecMath.h"
#include "ember/runtime/Cuda.h"
#include "ember/CudaPlanRun.h"
#include "ember/runtime/CudaPlan.h"
#include "ember/runtime/Nvrtc.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/Random.h"
#include "ember/runtime/ThreadPool.h"
#ifdef EMBER_WITH_COMPILER
#include "ember/compiler/Compile.h"
#include "ember/compiler/CudaEmulation.h"
#include "ember/compiler/CudaGraph.h"
#include "ember/compiler/JitCache.h"
#include "ember/compiler/Export.h"
#endif

#include "Convert.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using ember::python::as_tensor;
using namespace ember;

void bind_nn(nb::module_& m); // bind_nn.cpp
void bind_shape(nb::module_& m); // bind_shape.cpp
void bind_linalg(nb::module_& m); // bind_linalg.cpp
void bind_optim(nb::module_& m); // bind_optim.cpp
void bind_autograd(nb::module_& m); // bind_autograd.cpp
#ifdef EMBER_WITH_COMPILER
void bind_export(nb::module_& m); // bind_export.cpp
#endif
void bind_autocast(nb::module_& m); // bind_autocast.cpp

namespace {
// Graph::random as one Python object (ember.compile keeps it in a cache entry).
struct RandomDrawList {
  std::vector<RandomDraw> draws;
};

// ember::Error -> the matching built-in Python exception, message unchanged.
void translate_error(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const Error& e) {
    PyObject* type = PyExc_RuntimeError;
    switch (e.kind()) {
    case ErrorKind::Value: type = PyExc_ValueError; break;
    case ErrorKind::Type: type = PyExc_TypeError; break;
    case ErrorKind::Index: type = PyExc_IndexError; break;
    case ErrorKind::NotImplemented: type = PyExc_NotImplementedError; break;
    case ErrorKind::Runtime: type = PyExc_RuntimeError; break;
    }
    PyErr_SetString(type, e.what());
  }
}

// The DLPack dtype nanobind uses for each ember dtype (bfloat16 has no numpy equivalent).
nb::dlpack::dtype dlpack_dtype(DType d) {
  using nb::dlpack::dtype_code;
  switch (d) {
  case DType::Bool: return {uint8_t(dtype_code::Bool), 8, 1};
  case DType::UInt8: return nb::dtype<uint8_t>();
  case DType::Int8: return nb::dtype<int8_t>();
  case DType::Int16: return nb::dtype<int16_t>();
  case DType::Int32: return nb::dtype<int32_t>();
  case DType::Int64: return nb::dtype<int64_t>();
  case DType::Float16: return {uint8_t(dtype_code::Float), 16, 1};
  case DType::BFloat16: return {uint8_t(dtype_code::Bfloat), 16, 1};
  case DType::Float32: return nb::dtype<float>();
  case DType::Float64: return nb::dtype<double>();
  }
  return nb::dtype<float>();
}

DType from_dlpack_dtype(nb::dlpack::dtype t) {
  for (int i = 0; i < kNumDTypes; ++i) {
    DType d = static_cast<DType>(i);
    nb::dlpack::dtype e = dlpack_dtype(d);
    if (e.code == t.code && e.bits == t.bits) return d;
  }
  fail(ErrorKind::Type, "ember.tensor", "arrays of this element type (DLPack code ", int(t.code),
       ", ", int(t.bits), " bits) are not supported; ember has bool, uint8, int8, int16, int32, "
       "int64, float16, bfloat16, float32 and float64");
}

// A zero-copy numpy view of the tensor; the array keeps the tensor's storage alive.
nb::ndarray<nb::numpy> to_numpy(const Tensor& t) {
  EMBER_CHECK(!t.is_cuda(), Type, "ember.Tensor.numpy", "can't convert ", t.device().str(),
              " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory "
              "first.");
  EMBER_CHECK(t.dtype() != DType::BFloat16, Type, "ember.Tensor.numpy",
              "numpy has no bfloat16; convert first with .to(ember.float32)");
  auto* keep = new Tensor(t);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  return nb::ndarray<nb::numpy>(t.raw_data(), shape.size(), shape.data(), owner,
                                t.strides().data(), dlpack_dtype(t.dtype()));
}

// Copies an array of any strides and supported dtype (numpy, or anything with DLPack / buffer
// protocol).
Tensor from_array(nb::ndarray<nb::device::cpu> a) {
  Shape shape(a.ndim()), strides(a.ndim());
  for (size_t i = 0; i < a.ndim(); ++i) {
    shape[i] = static_cast<int64_t>(a.shape(i));
    strides[i] = a.stride(i);
  }
  return copy_from(a.data(), from_dlpack_dtype(a.dtype()), shape, strides);
}

// torch.from_numpy: a tensor over the array's own memory (writes show on both sides); the
// array stays alive while any view of it does.
Tensor from_numpy_shared(nb::ndarray<nb::device::cpu> a, nb::object array) {
  Shape shape(a.ndim()), strides(a.ndim());
  int64_t extent = 1;
  for (size_t i = 0; i < a.ndim(); ++i) {
    shape[i] = static_cast<int64_t>(a.shape(i));
    strides[i] = a.stride(i);
    EMBER_CHECK(strides[i] >= 0, Value, "ember.from_numpy", "At least one stride in the given "
                "numpy array is negative; ember does not support negative strides. Use "
                "array.copy() first");
    if (shape[i] == 0) extent = 0;
    else if (extent) extent += (shape[i] - 1) * strides[i];
  }
  const DType dtype = from_dlpack_dtype(a.dtype());
  PyObject* keep = array.ptr();
  Py_INCREF(keep);
  std::shared_ptr<void> owner(keep, [](void* p) {
    nb::gil_scoped_acquire gil;
    Py_DECREF(static_cast<PyObject*>(p));
  });
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(a.data(), size_t(extent) * itemsize(dtype), owner);
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

nb::object item(const Tensor& t) {
  double v = t.item();
  if (t.dtype() == DType::Bool) return nb::bool_(v != 0);
  if (is_integral(t.dtype())) return nb::int_(static_cast<int64_t>(v));
  return nb::float_(v);
}

// Accepts an ember.Tensor or a Python number (a 0-d float32 tensor, as PyTorch wraps scalars).

std::vector<Tensor> tensor_list(nb::handle seq, const char* op) {
  std::vector<Tensor> out;
  if (nb::isinstance<Tensor>(seq)) return {nb::cast<Tensor>(seq)};
  for (nb::handle h : seq) {
    if (h.is_none()) out.emplace_back();
    else out.push_back(as_tensor(h, op));
  }
  return out;
}

// (2, 3) or ((2, 3),) or ([2, 3],) as a Shape, like PyTorch's *size arguments.
Shape shape_args(nb::args args) {
  if (args.size() == 1 && !PyLong_Check(args[0].ptr())) return nb::cast<Shape>(args[0]);
  return nb::cast<Shape>(args);
}

} // namespace

namespace ember::python {
Tensor as_tensor(nb::handle h, const char* op) {
  if (nb::isinstance<Tensor>(h)) return nb::cast<Tensor>(h);
  if (PyBool_Check(h.ptr())) return wrapped_scalar(h.ptr() == Py_True ? 1 : 0, DType::Bool);
  if (PyLong_Check(h.ptr())) return wrapped_scalar(double(nb::cast<int64_t>(h)), DType::Int64);
  if (PyFloat_Check(h.ptr())) return wrapped_scalar(nb::cast<double>(h), DType::Float64);
  fail(ErrorKind::Type, op, "expected an ember.Tensor or a number, got ",
       nb::str(nb::handle(reinterpret_cast<PyObject*>(Py_TYPE(h.ptr())))).c_str(),
       "; convert it with ember.tensor(...)");
}
} // namespace ember::python

namespace ember {
void bind_cuda(nb::module_& m);
}
void bind_pointwise(nb::module_& m);

NB_MODULE(_C, m) {
  // Tensors alive at interpreter exit whose autograd nodes hold Python callables (a custom
  // Function's or a compiled call's backward) are only freed with the process; nanobind would
  // list every binding as leaked then. Nothing leaks while the interpreter runs.
  nb::set_leak_warnings(false);
  m.doc() = "ember's C++ core";
  nb::register_exception_translator(translate_error);

  auto dtype = nb::enum_<DType>(m, "dtype");
  for (int i = 0; i < kNumDTypes; ++i)
    dtype.value(dtype_name(static_cast<DType>(i)), static_cast<DType>(i));
  dtype.def_prop_ro("is_floating_point", [](DType d) { return is_floating(d); })
      .def_prop_ro("itemsize", [](DType d) { return itemsize(d); })
      .def("__repr__", [](DType d) { return std::string("ember.") + dtype_name(d); })
      .def("__str__", [](DType d) { return std::string("ember.") + dtype_name(d); });
  m.def("promote_types", &promote_types);
  m.def("result_type", [](nb::handle a, nb::handle b) {
    return result_type({as_tensor(a, "ember.result_type"), as_tensor(b, "ember.result_type")});
  });

  auto tensor = nb::class_<Tensor>(m, "Tensor");
  tensor
      // Tensor(t) shares t's tensor (storage and autograd state); ember.nn.Parameter calls it on
      // a detached tensor to become a new leaf.
      .def(nb::init<const Tensor&>(), nb::arg("data"))
      // t.data = src: t keeps its identity and autograd state but views src's memory (shape,
      // dtype, device); what Module.to() uses so parameters stay the same objects.
      .def("_set_data", [](Tensor& t, const Tensor& src) {
        EMBER_CHECK(!t.is_symbolic() && !src.is_symbolic(), Value, "ember.Tensor.data",
                    "cannot set .data of or from a traced tensor");
        EMBER_CHECK(!t.requires_grad() || is_floating(src.dtype()), Type, "ember.Tensor.data",
                    "a tensor that requires grad needs floating data, got ", dtype_name(src.dtype()));
        nn::set_data(t, src);
      }, nb::arg("src"))
      // A compiled function's state write: t takes src's memory instead of a copy when no
      // other tensor shares t's storage (no view could see the swap) and src matches t; the
      // version counter moves past t's old one, as an in-place write would. False: copy instead.
      .def("_adopt", [](Tensor& t, const Tensor& src) {
        if (t.is_symbolic() || src.is_symbolic() || !t.storage() || t.storage().use_count() != 1 ||
            t.shape() != src.shape() || t.dtype() != src.dtype() || !(t.device() == src.device()) ||
            !src.is_contiguous() || !t.is_contiguous() || src.storage() == t.storage())
          return false;
        const uint64_t before = t.version();
        nn::set_data(t, src);
        while (t.version() <= before) t.storage()->bump_version();
        return true;
      }, nb::arg("src"))
      .def_prop_ro("shape",
                   [](const Tensor& t) {
                     nb::list dims;
                     for (int64_t s : t.shape()) dims.append(s);
                     return nb::tuple(dims);
                   })
      .def_prop_ro("dtype", &Tensor::dtype)
      // Differentiable (recorded when autograd or a trace needs it), like PyTorch's.
      .def("to", [](const Tensor& t, DType d) { return d == t.dtype() ? t : cast(t, d); },
           nb::arg("dtype"))
      .def("contiguous", [](const Tensor& t) { return ember::contiguous(t); })
      .def("clone", [](const Tensor& t) { return ember::clone(t); })
      .def("dim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("stride", [](const Tensor& t, std::optional<int64_t> dim) -> nb::object {
        if (!dim) return nb::tuple(nb::cast(t.strides()));  // a tuple, as PyTorch's
        const int64_t n = std::max<int64_t>(t.dim(), 1);
        EMBER_CHECK(*dim >= -n && *dim < n, Index, "ember.Tensor.stride", "dimension out of range "
                    "(expected to be in range of [", -n, ", ", n - 1, "], but got ", *dim, ")");
        return t.dim() ? nb::cast(t.strides()[(*dim + n) % n]) : nb::cast(int64_t(1));
      }, nb::arg("dim").none() = nb::none())
      .def("storage_offset", &Tensor::storage_offset)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def_prop_ro("_is_symbolic", &Tensor::is_symbolic)
      .def("item", &item)
      .def("numpy", &to_numpy)
      .def_prop_rw("requires_grad", &Tensor::requires_grad,
                   [](Tensor& t, bool v) { t.set_requires_grad(v); })
      .def("requires_grad_", [](Tensor& t, bool v) { return t.set_requires_grad(v); },
           nb::arg("requires_grad") = true)
      .def_prop_rw("grad", [](const Tensor& t) -> nb::object {
                     Tensor g = t.grad();
                     return g.defined() ? nb::cast(g) : nb::none();
                   },
                   [](Tensor& t, nb::handle g) { t.set_grad(g.is_none() ? Tensor() : nb::cast<Tensor>(g)); },
                   nb::arg("value").none())
      .def_prop_ro("is_leaf", &Tensor::is_leaf)
      .def("detach", &Tensor::detach)
      .def("uniform_", [](Tensor& t, double a, double b) -> Tensor& { return uniform_(t, a, b); },
           nb::arg("from") = 0.0, nb::arg("to") = 1.0, nb::rv_policy::reference)
      .def("normal_", [](Tensor& t, double m, double s) -> Tensor& { return normal_(t, m, s); },
           nb::arg("mean") = 0.0, nb::arg("std") = 1.0, nb::rv_policy::reference)
      .def("matmul", [](const Tensor& a, nb::handle b) { return matmul(a, as_tensor(b, "ember.matmul")); })
      .def("__matmul__", [](const Tensor& a, nb::handle b) { return matmul(a, as_tensor(b, "ember.matmul")); })
      .def("__rmatmul__", [](const Tensor& a, nb::handle b) { return matmul(as_tensor(b, "ember.matmul"), a); })
      .def("mm", [](const Tensor& a, const Tensor& b) { return mm(a, b); })
      .def("bmm", [](const Tensor& a, const Tensor& b) { return bmm(a, b); })
      .def("dot", [](const Tensor& a, const Tensor& b) { return dot(a, b); })
      .def("outer", [](const Tensor& a, const Tensor& b) { return outer(a, b); })
      .def("permute", [](const Tensor& a, nb::args dims) { return permute(a, shape_args(dims)); })
      .def("view", [](const Tensor& a, nb::args dims) { return view(a, shape_args(dims)); })
      .def("unsqueeze", &unsqueeze, nb::arg("dim"))
      .def("squeeze", [](const Tensor& a, std::optional<int64_t> d) { return squeeze(a, d); },
           nb::arg("dim").none() = nb::none())
      .def("flatten", &flatten, nb::arg("start_dim") = 0, nb::arg("end_dim") = -1)
      .def("narrow", &narrow, nb::arg("dim"), nb::arg("start"), nb::arg("length"))
      .def("select", [](const Tensor& a, int64_t d, int64_t i) { return ember::select(a, d, i); },
           nb::arg("dim"), nb::arg("index"))
      .def("_slice", &slice)
      .def("reshape", [](const Tensor& a, nb::args dims) { return reshape(a, shape_args(dims)); })
      .def("transpose", &transpose, nb::arg("dim0"), nb::arg("dim1"))
      .def("t", [](const Tensor& a) {
        EMBER_CHECK(a.dim() <= 2, Value, "ember.t", "t() expects a tensor with <= 2 dimensions, "
                    "got ", a.dim(), "; use transpose(dim0, dim1)");
        return a.dim() < 2 ? a : transpose(a, 0, 1);
      })
      .def("expand", [](const Tensor& a, nb::args dims) {
        // -1 keeps the size of that dimension, as in PyTorch.
        Shape s = shape_args(dims);
        const size_t lead = s.size() - std::min(s.size(), a.shape().size());
        for (size_t i = lead; i < s.size(); ++i)
          if (s[i] == -1) s[i] = a.shape()[i - lead];
        return expand(a, s);
      });

  // One binding per elementwise record: function, method, and operator where Python has one.
#define EMBER_BIND_1(name)                                                                      \
  m.def(#name, [](const Tensor& a) { return name(a); }, nb::arg("input"));                    \
  tensor.def(#name, [](const Tensor& a) { return name(a); });
#define EMBER_BIND_2(name)                                                                      \
  m.def(#name, [](nb::handle a, nb::handle b) {                                               \
    return name(as_tensor(a, "ember." #name), as_tensor(b, "ember." #name));                  \
  }, nb::arg("input"), nb::arg("other"));                                                     \
  tensor.def(#name, [](const Tensor& a, nb::handle b) { return name(a, as_tensor(b, "ember." #name)); });
#define EMBER_ELEMENTWISE(Name, name, arity, ...) EMBER_BIND_##arity(name)
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  // The in-place variant of each record, as in PyTorch (add_, exp_, ...).
#define EMBER_BIND_INPLACE_1(name)                                                              \
  tensor.def(#name "_", [](Tensor& a) -> Tensor& { return assign_(a, name(a), "ember." #name "_"); }, \
             nb::rv_policy::reference);
#define EMBER_BIND_INPLACE_2(name)                                                              \
  tensor.def(#name "_", [](Tensor& a, nb::handle b) -> Tensor& {                              \
    return assign_(a, name(a, as_tensor(b, "ember." #name "_")), "ember." #name "_");         \
  }, nb::rv_policy::reference);
#define EMBER_ELEMENTWISE(Name, name, arity, ...) EMBER_BIND_INPLACE_##arity(name)
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  tensor.def("copy_", [](Tensor& a, nb::handle b) -> Tensor& { return copy_(a, as_tensor(b, "ember.Tensor.copy_")); },
             nb::arg("src"), nb::rv_policy::reference)
      .def("fill_", [](Tensor& a, nb::handle v) -> Tensor& { return copy_(a, as_tensor(v, "ember.Tensor.fill_")); },
           nb::arg("value"), nb::rv_policy::reference)
      .def("zero_", [](Tensor& a) -> Tensor& { return copy_(a, wrapped_scalar(0, DType::Bool)); },
           nb::rv_policy::reference);
  nb::list elementwise;
#define EMBER_ELEMENTWISE(Name, name, ...) elementwise.append(#name);
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
  m.attr("_elementwise_ops") = elementwise; // ember/__init__.py exports each by name
  tensor.def("__add__", [](const Tensor& a, nb::handle b) { return add(a, as_tensor(b, "ember.add")); })
      .def("__radd__", [](const Tensor& a, nb::handle b) { return add(as_tensor(b, "ember.add"), a); })
      .def("__mul__", [](const Tensor& a, nb::handle b) { return mul(a, as_tensor(b, "ember.mul")); })
      .def("__rmul__", [](const Tensor& a, nb::handle b) { return mul(as_tensor(b, "ember.mul"), a); });

  m.def("_from_array", &from_array, nb::arg("array"));
  m.def("_from_numpy_shared", [](nb::handle array) {
    return from_numpy_shared(nb::cast<nb::ndarray<nb::device::cpu>>(array), nb::borrow(array));
  });
  // Reductions take normalized arguments; ember/_reductions.py gives them PyTorch's signatures.
  m.def("_sum", [](const Tensor& a, const Shape& d, bool k) { return sum(a, d, k); });
  m.def("_amax", [](const Tensor& a, const Shape& d, bool k) { return amax(a, d, k); });
  m.def("_amin", [](const Tensor& a, const Shape& d, bool k) { return amin(a, d, k); });
  m.def("_prod", [](const Tensor& a, const Shape& d, bool k) { return prod(a, d, k); });
  m.def("_mean", [](const Tensor& a, const Shape& d, bool k) { return mean(a, d, k); });
  m.def("_all", [](const Tensor& a, const Shape& d, bool k) { return all(a, d, k); });
  m.def("_any", [](const Tensor& a, const Shape& d, bool k) { return any(a, d, k); });
  m.def("_var", [](const Tensor& a, const Shape& d, double c, bool k) { return var(a, d, c, k); });
  m.def("_std", [](const Tensor& a, const Shape& d, double c, bool k) { return ember::std(a, d, c, k); });
  m.def("_logsumexp", [](const Tensor& a, const Shape& d, bool k) { return logsumexp(a, d, k); });
  m.def("_softmax", [](const Tensor& a, int64_t d) { return softmax(a, d); });
  m.def("_log_softmax", [](const Tensor& a, int64_t d) { return log_softmax(a, d); });
  m.def("_argmax", [](const Tensor& a, std::optional<int64_t> d, bool k) { return argmax(a, d, k); },
        nb::arg("a"), nb::arg("dim").none(), nb::arg("keepdim"));
  m.def("_argmin", [](const Tensor& a, std::optional<int64_t> d, bool k) { return argmin(a, d, k); },
        nb::arg("a"), nb::arg("dim").none(), nb::arg("keepdim"));
  m.def("matmul", [](nb::handle a, nb::handle b) {
    return matmul(as_tensor(a, "ember.matmul"), as_tensor(b, "ember.matmul"));
  }, nb::arg("input"), nb::arg("other"));
  m.def("mm", &mm, nb::arg("input"), nb::arg("mat2"));
  m.def("bmm", &bmm, nb::arg("input"), nb::arg("mat2"));
  m.def("dot", &dot, nb::arg("input"), nb::arg("other"));
  m.def("outer", &outer, nb::arg("input"), nb::arg("vec2"));
  m.def("cat", [](nb::handle seq, int64_t dim) { return cat(tensor_list(seq, "ember.cat"), dim); },
        nb::arg("tensors"), nb::arg("dim") = 0);
  m.def("stack", [](nb::handle seq, int64_t dim) { return stack(tensor_list(seq, "ember.stack"), dim); },
        nb::arg("tensors"), nb::arg("dim") = 0);
  m.def("where", [](const Tensor& c, nb::handle a, nb::handle b) {
    return where(c, as_tensor(a, "ember.where"), as_tensor(b, "ember.where"));
  }, nb::arg("condition"), nb::arg("input"), nb::arg("other"));
  m.def("zeros", [](const Shape& s, DType d) { return zeros(s, d); });
  m.def("ones", [](const Shape& s, DType d) { return ones(s, d); });
  m.def("full", [](const Shape& s, double v, DType d) { return full(s, v, d); });
  m.def("_set_grad_enabled", &set_grad_enabled);
  m.def("_arange", [](double s, double e, double st, std::optional<DType> d) { return arange(s, e, st, d); },
        nb::arg("start"), nb::arg("end"), nb::arg("step"), nb::arg("dtype").none());
  m.def("_linspace", &linspace);
  m.def("_logspace", &logspace);
  m.def("_eye", [](int64_t n, std::optional<int64_t> m, DType d) { return eye(n, m, d); },
        nb::arg("n"), nb::arg("m").none(), nb::arg("dtype"));
  m.def("manual_seed", [](int64_t seed) { manual_seed(static_cast<uint64_t>(seed)); }, nb::arg("seed"));
  m.def("initial_seed", [] { return static_cast<int64_t>(random::initial_seed()); });
  m.def("_rng_offset", [] { return random::offset(); });
  m.def("_set_rng_offset", [](uint64_t v) { random::set_offset(v); });
  m.def("_rand", [](const Shape& s, DType d) { return rand(s, d); });
  m.def("_randn", [](const Shape& s, DType d) { return randn(s, d); });
  m.def("_randint", [](int64_t lo, int64_t hi, const Shape& s, DType d) { return randint(lo, hi, s, d); });
  m.def("_randperm", [](int64_t n, DType d) { return randperm(n, d); });
  m.def("_empty", [](const Shape& s, DType d) { return empty(s, d); });
  m.def("bernoulli", &bernoulli, nb::arg("input"));
  m.def("set_num_threads", &set_num_threads, nb::arg("num"));
  m.def("get_num_threads", &get_num_threads);
  m.def("_host_allocator_stats", [] {
    HostAllocatorStats s = host_allocator_stats();
    nb::dict d;
    d["allocated_bytes"] = s.allocated_bytes;
    d["peak_allocated_bytes"] = s.peak_allocated_bytes;
    d["cached_bytes"] = s.cached_bytes;
    d["allocations"] = s.allocations;
    d["cache_hits"] = s.cache_hits;
    return d;
  });
  m.def("_host_empty_cache", &host_empty_cache);
  // The copy of the vectorized float32 kernels in use: "avx512", "avx2" or "generic".
  m.def("_vec_isa", [] { return std::string(kernels::vec_isa_name(kernels::vec_isa())); });
  m.def("is_grad_enabled", &grad_enabled);

  // A traced function's random draws, drawn again at each call of its compiled graph.
  nb::class_<RandomDrawList>(m, "RandomDraws")
      .def("__len__", [](const RandomDrawList& d) { return d.draws.size(); })
      .def("draw", [](const RandomDrawList& d, const std::string& device) {
        return draw_random(d.draws, parse_device(device));
      }, nb::arg("device") = "cpu");
  nb::class_<Graph>(m, "Graph")
      .def_prop_ro("num_nodes", [](const Graph& g) { return g.steps.size(); })
      .def("run", [](const Graph& g, nb::handle inputs) {
        return run_graph(g, tensor_list(inputs, "ember.Graph.run"));
      })
      // For exporters written in Python (ember.onnx): values are named by their TensorImpl.
      .def_prop_ro("inputs", [](const Graph& g) { return g.inputs; })
      .def_prop_ro("outputs", [](const Graph& g) { return g.outputs; })
      .def_prop_ro("constants", [](const Graph& g) { return g.constants; })
      .def_prop_ro("state_writes", [](const Graph& g) { return g.state_writes; })
      .def_prop_ro("grad_writes", [](const Graph& g) { return g.grad_writes; })
      .def_prop_ro("grad_clears", [](const Graph& g) { return g.grad_clears; })
      .def_prop_ro("grad_fresh", [](const Graph& g) { return g.grad_fresh; })
      .def_prop_ro("view_chains", [](const Graph& g) {
        nb::list out;
        for (const ViewChain& c : view_chains(g)) out.append(nb::make_tuple(c.source, c.steps));
        return out;
      })
      .def("replay_view", [](const Graph& g, const std::vector<int64_t>& steps, const Tensor& source) {
        return replay_view(g, steps, source);
      })
      .def_prop_ro("random_draws", [](const Graph& g) { return RandomDrawList{g.random}; })
      .def_prop_ro("nodes", [](const Graph& g) {
        nb::list out;
        for (const Graph::Step& s : g.steps) {
          nb::list ins;
          for (const Tensor& t : s.node->inputs) ins.append(reinterpret_cast<uintptr_t>(t.unsafe_impl()));
          out.append(nb::make_tuple(prim_name(s.node->prim), s.node->attrs.ints, s.node->attrs.keepdim,
                                    ins, reinterpret_cast<uintptr_t>(s.output.unsafe_impl()),
                                    s.node->shape, s.node->dtype));
        }
        return out;
      });
  m.def("_value_id", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.unsafe_impl()); });
  m.def("_lift_constants", [](Graph& g, nb::handle candidates) {
    return lift_constants(g, tensor_list(candidates, "ember.compile"));
  });
  m.def("_trace", [](nb::callable fn, const std::vector<Shape>& shapes,
                     const std::vector<bool>& requires_grad, const std::vector<DType>& dtypes,
                     nb::handle state) {
    const size_t n = shapes.size();
    auto call = [&](const std::vector<Tensor>& inputs) {
      nb::list args;
      for (size_t i = 0; i < n; ++i) args.append(nb::cast(inputs[i])); // not the state's placeholders
      return tensor_list(fn(args), "ember.compile");
    };
    return trace(call, shapes, requires_grad, dtypes,
                 state.is_none() ? std::vector<Tensor>{} : tensor_list(state, "ember.compile"));
  }, nb::arg("fn"), nb::arg("shapes"), nb::arg("requires_grad"), nb::arg("dtypes"),
     nb::arg("state") = nb::none());

  // A serialized CUDA plan (ember-compile's NAME.plan, or one carried to a GPU machine) run on
  // CUDA device `device`, or with device -1 on the host emulation (builds with the compiler).
  nb::class_<cuda::PlanRunner>(m, "CudaPlanRunner")
      .def("run", [](cuda::PlanRunner& r, nb::handle inputs, int device) {
        return run_cuda_plan(r, tensor_list(inputs, "cuda plan"), device, "cuda plan");
      }, nb::arg("inputs"), nb::arg("device"))
      .def_prop_ro("input_shapes", [](const cuda::PlanRunner& r) { return r.plan().input_shapes; })
      .def_prop_ro("input_dtypes", [](const cuda::PlanRunner& r) { return r.plan().input_dtypes; })
      .def_prop_ro("device_bytes", &cuda::PlanRunner::device_bytes)
      .def_prop_ro("unplanned_bytes", &cuda::PlanRunner::unplanned_bytes);
  m.def("_cuda_plan_runner", [](const std::string& text, int device) {
    std::unique_ptr<cuda::PlanBackend> backend;
#ifdef EMBER_WITH_COMPILER
    if (device < 0) backend = compiler::emulationBackend();
#endif
    EMBER_CHECK(device >= 0 || backend, NotImplemented, "cuda plan",
                "the host emulation of CUDA plans needs a build with the compiler");
    if (!backend) backend = cuda::cuda_backend(device);
    return std::make_shared<cuda::PlanRunner>(cuda::Plan::parse(text), std::move(backend));
  }, nb::arg("text"), nb::arg("device"));

#ifdef EMBER_WITH_COMPILER
  using compiler::CompiledGraph;
  nb::class_<CompiledGraph>(m, "CompiledGraph")
      .def("run", [](CompiledGraph& c, nb::handle inputs) {
        return c.run(tensor_list(inputs, "ember.compile"));
      })
      .def_prop_ro("ir", &CompiledGraph::ir)
      .def_prop_ro("dynamic", &CompiledGraph::isDynamic)
      .def_prop_ro("lowered_ir", &CompiledGraph::loweredIR)
      .def_prop_ro("times", [](const CompiledGraph& c) {
        const compiler::CompileTimes& t = c.times();
        nb::dict d;
        d["import"] = t.import;
        d["parse"] = t.parse;
        d["lower"] = t.lower;
        d["codegen"] = t.codegen;
        d["from_disk_cache"] = t.fromDiskCache;
        return d;
      });
  m.def("_jit_cache_stats", [] {
    compiler::JitCache& cache = compiler::JitCache::instance();
    const compiler::JitCacheStats s = cache.stats();
    nb::dict d;
    d["dir"] = cache.dir();
    d["hits"] = s.hits;
    d["misses"] = s.misses;
    d["rejected"] = s.rejected;
    d["writes"] = s.writes;
    d["evicted"] = s.evicted;
    return d;
  });
  m.def("_jit_cache_configure", [] { compiler::JitCache::instance().configure(); });
  m.def("_compile_graph", &CompiledGraph::compile, nb::arg("graph"), nb::arg("dump_dir") = "");
  using compiler::CudaCompiledGraph;
  nb::class_<CudaCompiledGraph>(m, "CudaCompiledGraph")
      .def("run", [](CudaCompiledGraph& c, nb::handle inputs) {
        return c.run(tensor_list(inputs, "ember.compile"));
      })
      .def_prop_ro("ir", &CudaCompiledGraph::ir)
      .def_prop_ro("plan", &CudaCompiledGraph::planText)
      .def_prop_ro("kernels", [](const CudaCompiledGraph& c) { // (name, CUDA C source) each
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& k : c.plan().kernels) out.emplace_back(k.name, k.source);
        return out;
      })
      .def_prop_ro("times", [](const CudaCompiledGraph& c) {
        nb::dict d;
        d["import"] = c.importSeconds();
        d["parse"] = 0.0;
        d["lower"] = c.planSeconds();
        d["codegen"] = c.loadSeconds();
        d["from_disk_cache"] = false;
        return d;
      });
  // device: a CUDA device index, or -1 for the host emulation of the CUDA plan.
  m.def("_compile_graph_cuda", &CudaCompiledGraph::compile, nb::arg("graph"), nb::arg("device"));
  // NVRTC without a GPU: compiles CUDA C for `arch` (sm_XX: a cubin; compute_XX: PTX) and
  // returns the image; raises with NVRTC's log when the source does not compile.
  m.def("_nvrtc_available", &cuda::nvrtc_available);
  m.def("_nvrtc_compile", [](const std::string& source, const std::string& name, const std::string& arch) {
    const std::string image = cuda::nvrtc_compile(source, name + ".cu", arch).image;
    return nb::bytes(image.data(), image.size());
  }, nb::arg("source"), nb::arg("name"), nb::arg("arch"));

  m.def("_graph_text", &compiler::graphText, nb::arg("graph"));
  m.def("_graph_to_mlir", [](const Graph& g, const std::string& name) {
    return compiler::graphToMLIR(g, name);
  }, nb::arg("graph"), nb::arg("name") = "main");
  // ember.compile(dynamic=True): traces at compiler.symbolic_trace_sizes(base), symbol j is dim
  // sources[j][1] of input sources[j][0].
  m.def("_symbolic_trace_sizes", &compiler::symbolicTraceSizes, nb::arg("base"));
  m.def("_compile_graph_symbolic", [](const std::vector<Graph>& traces,
                                      const std::vector<std::vector<int64_t>>& sizes,
                                      const std::vector<std::pair<int64_t, int64_t>>& sources,
                                      const std::string& dumpDir) {
    return CompiledGraph::compileSymbolic(traces, sizes, sources, dumpDir);
  }, nb::arg("traces"), nb::arg("sizes"), nb::arg("sources"), nb::arg("dump_dir") = "");
  bind_export(m); // bind_export.cpp: ember.export / ember.load_exported
  m.attr("has_compiler") = true;
#else
  m.attr("has_compiler") = false;
#endif

  // ember.nn.functional's kernels; ember/nn/functional.py gives them PyTorch's signatures.
  {
    namespace F = ember::nn::functional;
    nb::module_ f = m.def_submodule("_F", "nn.functional primitives");
    auto opt = [](nb::handle h) { return h.is_none() ? Tensor() : nb::cast<Tensor>(h); };
    auto red = [](const std::string& r, const char* op) { return F::reduction_from(r, op); };
    f.def("clamp", [](const Tensor& x, std::optional<double> lo, std::optional<double> hi) {
      return F::clamp(x, lo, hi);
    }, nb::arg("x"), nb::arg("min").none(), nb::arg("max").none());
    f.def("linear", [opt](const Tensor& x, const Tensor& w, nb::handle b) { return F::linear(x, w, opt(b)); },
          nb::arg("x"), nb::arg("weight"), nb::arg("bias").none());
    f.def("gelu", &F::gelu);
    f.def("silu", &F::silu);
    f.def("mish", &F::mish);
    f.def("softplus", &F::softplus);
    f.def("logsigmoid", &F::logsigmoid);
    f.def("leaky_relu", &F::leaky_relu);
    f.def("elu", &F::elu);
    f.def("selu", &F::selu);
    f.def("celu", &F::celu);
    f.def("hardtanh", &F::hardtanh);
    f.def("relu6", &F::relu6);
    f.def("hardsigmoid", &F::hardsigmoid);
    f.def("hardswish", &F::hardswish);
    f.def("one_hot", &F::one_hot);
    f.def("embedding", [](const Tensor& i, const Tensor& w) { return F::embedding(i, w); });
    f.def("dropout", &F::dropout);
    f.def("layer_norm", [opt](const Tensor& x, const Shape& s, nb::handle w, nb::handle b, double eps) {
      return F::layer_norm(x, s, opt(w), opt(b), eps);
    }, nb::arg("x"), nb::arg("shape"), nb::arg("weight").none(), nb::arg("bias").none(), nb::arg("eps"));
#define EMBER_BIND_LOSS(name)                                                                      \
    f.def(#name, [red](const Tensor& a, const Tensor& b, const std::string& r) {                   \
      return F::name(a, b, red(r, "ember.nn.functional." #name));                                  \
    });
    EMBER_BIND_LOSS(mse_loss)
    EMBER_BIND_LOSS(l1_loss)
    EMBER_BIND_LOSS(binary_cross_entropy)
    EMBER_BIND_LOSS(binary_cross_entropy_with_logits)
#undef EMBER_BIND_LOSS
    f.def("smooth_l1_loss", [red](const Tensor& a, const Tensor& b, const std::string& r, double beta) {
      return F::smooth_l1_loss(a, b, red(r, "ember.nn.functional.smooth_l1_loss"), beta);
    });
    f.def("huber_loss", [red](const Tensor& a, const Tensor& b, const std::string& r, double delta) {
      return F::huber_loss(a, b, red(r, "ember.nn.functional.huber_loss"), delta);
    });
    f.def("kl_div", [red](const Tensor& a, const Tensor& b, const std::string& r, bool log_target) {
      return F::kl_div(a, b, red(r, "ember.nn.functional.kl_div"), log_target);
    });
    f.def("nll_loss", [opt, red](const Tensor& a, const Tensor& t, nb::handle w, int64_t ignore,
                                 const std::string& r) {
      return F::nll_loss(a, t, opt(w), ignore, red(r, "ember.nn.functional.nll_loss"));
    }, nb::arg("input"), nb::arg("target"), nb::arg("weight").none(), nb::arg("ignore_index"),
       nb::arg("reduction"));
    f.def("cross_entropy", [opt, red](const Tensor& a, const Tensor& t, nb::handle w, int64_t ignore,
                                      const std::string& r, double smoothing) {
      return F::cross_entropy(a, t, opt(w), ignore, red(r, "ember.nn.functional.cross_entropy"), smoothing);
    }, nb::arg("input"), nb::arg("target"), nb::arg("weight").none(), nb::arg("ignore_index"),
       nb::arg("reduction"), nb::arg("label_smoothing"));
    m.def("index_select", [](const Tensor& a, int64_t d, const Tensor& i) { return index_select(a, d, i); },
          nb::arg("input"), nb::arg("dim"), nb::arg("index"));
  }

  bind_nn(m);
  bind_pointwise(m);
  bind_shape(m);
  bind_linalg(m);
  bind_optim(m);
  bind_autograd(m);
  bind_cuda(m);
  bind_autocast(m);
}
