// Python bindings of ember/LinalgOps.h; ember/linalg_ops.py gives them PyTorch's signatures.
#include "ember/LinalgOps.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;

void bind_linalg(nb::module_& m) {
  using namespace ember;
  m.def("_addmm", &addmm);
  m.def("_baddbmm", &baddbmm);
  m.def("_vdot", &vdot);
  m.def("_tensordot", &tensordot);
  m.def("_einsum", &einsum);
  m.def("_multinomial", &multinomial);
}
