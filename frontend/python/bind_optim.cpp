// Python bindings for the fused optimizer updates (ember/Optim.h), as ember._C._optim.
#include "ember/Optim.h"

#include <nanobind/nanobind.h>

namespace nb = nanobind;
using namespace ember;

namespace {
// None → an undefined tensor (a state the configuration does not use).
Tensor opt(nb::handle h) { return h.is_none() ? Tensor() : nb::cast<Tensor>(h); }
} // namespace

void bind_optim(nb::module_& m) {
  auto o = m.def_submodule("_optim", "fused optimizer updates (ember/Optim.h)");
  o.def("sgd", [](const Tensor& p, const Tensor& g, nb::handle buf, double lr, double momentum,
                  double dampening, double wd, bool nesterov, bool maximize, bool first) {
    optim::sgd_step_(p, g, opt(buf), lr, momentum, dampening, wd, nesterov, maximize, first);
  }, nb::arg("param"), nb::arg("grad"), nb::arg("buf").none(), nb::arg("lr"), nb::arg("momentum"),
     nb::arg("dampening"), nb::arg("weight_decay"), nb::arg("nesterov"), nb::arg("maximize"),
     nb::arg("first"));
  o.def("adam", [](const Tensor& p, const Tensor& g, const Tensor& m1, const Tensor& m2,
                   nb::handle vmax, double lr, double b1, double b2, double eps, double wd,
                   bool decoupled, bool amsgrad, bool maximize, int64_t step) {
    optim::adam_step_(p, g, m1, m2, opt(vmax), lr, b1, b2, eps, wd, decoupled, amsgrad, maximize,
                      step);
  }, nb::arg("param"), nb::arg("grad"), nb::arg("exp_avg"), nb::arg("exp_avg_sq"),
     nb::arg("max_exp_avg_sq").none(), nb::arg("lr"), nb::arg("beta1"), nb::arg("beta2"),
     nb::arg("eps"), nb::arg("weight_decay"), nb::arg("decoupled"), nb::arg("amsgrad"),
     nb::arg("maximize"), nb::arg("step"));
  o.def("rmsprop", [](const Tensor& p, const Tensor& g, const Tensor& sq, nb::handle ga,
                      nb::handle buf, double lr, double alpha, double eps, double wd,
                      double momentum, bool centered, bool maximize) {
    optim::rmsprop_step_(p, g, sq, opt(ga), opt(buf), lr, alpha, eps, wd, momentum, centered,
                         maximize);
  }, nb::arg("param"), nb::arg("grad"), nb::arg("square_avg"), nb::arg("grad_avg").none(),
     nb::arg("momentum_buffer").none(), nb::arg("lr"), nb::arg("alpha"), nb::arg("eps"),
     nb::arg("weight_decay"), nb::arg("momentum"), nb::arg("centered"), nb::arg("maximize"));
  o.def("adagrad", [](const Tensor& p, const Tensor& g, const Tensor& s, double clr, double wd,
                      double eps, bool maximize) {
    optim::adagrad_step_(p, g, s, clr, wd, eps, maximize);
  }, nb::arg("param"), nb::arg("grad"), nb::arg("sum"), nb::arg("clr"), nb::arg("weight_decay"),
     nb::arg("eps"), nb::arg("maximize"));
}
