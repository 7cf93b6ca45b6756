// Python bindings for the pointwise composites and the scans / extra reductions
// (PointwiseOps.h, ReductionOps.h). ember/_pointwise.py gives them PyTorch's signatures.
#include "ember/PointwiseOps.h"
#include "ember/ReductionOps.h"
#include "ember/runtime/Error.h"

#include "Convert.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace ember;

namespace {

Tensor operand(nb::handle h, const char* op) { return python::as_tensor(h, op); }

Tensor optional_operand(nb::handle h, const char* op) {
  return h.is_none() ? Tensor() : operand(h, op);
}

} // namespace

void bind_pointwise(nb::module_& m) {
  m.def("_assign_", [](Tensor& self, const Tensor& result, const std::string& op) -> Tensor& {
    return assign_(self, result, op.c_str());
  }, nb::rv_policy::reference);
  m.def("_square", &square);
  m.def("_frac", &frac);
  m.def("_float_power", [](nb::handle a, nb::handle b) {
    return float_power(operand(a, "ember.float_power"), operand(b, "ember.float_power"));
  });
  m.def("_isposinf", &isposinf);
  m.def("_isneginf", &isneginf);
  m.def("_nan_to_num", &nan_to_num, nb::arg("input"), nb::arg("nan").none(),
        nb::arg("posinf").none(), nb::arg("neginf").none());
  m.def("_lerp", [](const Tensor& a, nb::handle end, nb::handle w) {
    return lerp(a, operand(end, "ember.lerp"), operand(w, "ember.lerp"));
  });
  m.def("_addcmul", &addcmul);
  m.def("_addcdiv", &addcdiv);
  m.def("_clamp", [](nb::handle a, nb::handle lo, nb::handle hi) {
    return clamp(operand(a, "ember.clamp"), optional_operand(lo, "ember.clamp"),
                 optional_operand(hi, "ember.clamp"));
  }, nb::arg("input"), nb::arg("min").none(), nb::arg("max").none());

  m.def("_cumsum", &cumsum, nb::arg("input"), nb::arg("dim"), nb::arg("dtype").none());
  m.def("_cumprod", &cumprod, nb::arg("input"), nb::arg("dim"), nb::arg("dtype").none());
  m.def("_var_mean", &var_mean);
  m.def("_std_mean", &std_mean);
  m.def("_vector_norm", &vector_norm, nb::arg("input"), nb::arg("ord"), nb::arg("dims"),
        nb::arg("keepdim"), nb::arg("dtype").none());
  m.def("_count_nonzero", &count_nonzero);
  m.def("_reduction_input", [](const Tensor& a, std::optional<DType> d, const std::string& op) {
    return reduction_input(a, d, op.c_str());
  }, nb::arg("input"), nb::arg("dtype").none(), nb::arg("op"));
}
