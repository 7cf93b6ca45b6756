// Python bindings: ember._C. The Python package (ember/__init__.py) builds the public API on it.
#include "ember/Tensor.h"
#include "ember/runtime/Cuda.h"
#include "ember/runtime/Error.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace ember;

namespace {

using NumpyF32 = nb::ndarray<nb::numpy, float>;

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

// A zero-copy numpy view of the tensor; the array keeps the tensor's storage alive.
NumpyF32 to_numpy(const Tensor& t) {
  auto* keep = new Tensor(t);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  return NumpyF32(t.data_ptr(), shape.size(), shape.data(), owner, t.strides().data());
}

// Copies a float32 array of any strides (numpy, or anything with DLPack / buffer protocol).
Tensor from_array(nb::ndarray<float, nb::device::cpu> a) {
  Shape shape(a.ndim()), strides(a.ndim());
  for (size_t i = 0; i < a.ndim(); ++i) {
    shape[i] = static_cast<int64_t>(a.shape(i));
    strides[i] = a.stride(i);
  }
  return copy_from(a.data(), shape, strides);
}

Tensor check_tensor(nb::handle h, const char* op) {
  if (!nb::isinstance<Tensor>(h))
    fail(ErrorKind::Type, op, "expected an ember.Tensor, got ",
         nb::str(nb::handle(reinterpret_cast<PyObject*>(Py_TYPE(h.ptr())))).c_str(),
         "; convert it with ember.tensor(...)");
  return nb::cast<Tensor>(h);
}

} // namespace

NB_MODULE(_C, m) {
  m.doc() = "ember's C++ core";
  nb::register_exception_translator(translate_error);

  nb::class_<Tensor>(m, "Tensor")
      .def_prop_ro("shape",
                   [](const Tensor& t) {
                     nb::list dims;
                     for (int64_t s : t.shape()) dims.append(s);
                     return nb::tuple(dims);
                   })
      .def_prop_ro("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def("dim", &Tensor::dim)
      .def("numel", &Tensor::numel)
      .def("stride", [](const Tensor& t) { return t.strides(); })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("item", &Tensor::item)
      .def("numpy", &to_numpy)
      .def("add", [](const Tensor& a, nb::handle b) { return add(a, check_tensor(b, "ember.add")); })
      .def("__add__", [](const Tensor& a, nb::handle b) { return add(a, check_tensor(b, "ember.add")); });

  m.def("_from_array", &from_array, nb::arg("array"));
  m.def("add", [](nb::handle a, nb::handle b) {
    return add(check_tensor(a, "ember.add"), check_tensor(b, "ember.add"));
  }, nb::arg("input"), nb::arg("other"));
  m.def("zeros", [](const Shape& s) { return zeros(s); });
  m.def("ones", [](const Shape& s) { return ones(s); });
  m.def("full", [](const Shape& s, float v) { return full(s, v); });

  nb::module_ cuda = m.def_submodule("cuda", "CUDA availability (loaded at run time)");
  cuda.def("is_available", &cuda::is_available);
  cuda.def("device_count", &cuda::device_count);
  cuda.def("built_with_cuda", &cuda::built_with_cuda);
  cuda.def("unavailable_reason", &cuda::unavailable_reason);
}
