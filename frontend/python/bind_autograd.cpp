// Python bindings of autograd (ember/Graph.h): Tensor.backward, grad_fn objects, hooks,
// retain_grad, version counters, custom-function nodes; ember/autograd.py builds the API.
#include "ember/Graph.h"

#include "ember/runtime/Error.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <cstdio>

namespace nb = nanobind;
using namespace ember;

namespace {

// A node of the graph as Python sees it (torch.autograd.graph.Node): a recorded node, or the
// AccumulateGrad of a leaf.
struct GradFn {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
  std::string name() const { return node ? node_name(*node) : "AccumulateGrad"; }
};

std::vector<Tensor> tensors(nb::handle seq) {
  std::vector<Tensor> out;
  if (seq.is_none()) return out;
  if (nb::isinstance<Tensor>(seq)) return {nb::cast<Tensor>(seq)};
  for (nb::handle h : seq) out.push_back(h.is_none() ? Tensor() : nb::cast<Tensor>(h));
  return out;
}

nb::object to_py(const Tensor& t) { return t.defined() ? nb::cast(t) : nb::none(); }

// A Python callable as a tensor hook: None keeps the gradient.
TensorHook as_hook(nb::object fn) {
  return [fn](const Tensor& g) -> Tensor {
    nb::gil_scoped_acquire gil;
    nb::object r = fn(g);
    if (r.is_none()) return Tensor();
    EMBER_CHECK(nb::isinstance<Tensor>(r), Type, "ember.Tensor.register_hook",
                "a hook must return a Tensor or None");
    return nb::cast<Tensor>(r);
  };
}

} // namespace

void bind_autograd(nb::module_& m) {
  nb::class_<GradFn>(m, "_GradFn")
      .def("name", &GradFn::name)
      .def_prop_ro("next_functions", [](const GradFn& f) {
        nb::list out;
        if (f.node)
          for (const Edge& e : f.node->next) {
            if (e.fn || e.leaf) out.append(nb::make_tuple(GradFn{e.fn, e.leaf}, 0));
            else out.append(nb::make_tuple(nb::none(), 0));
          }
        return nb::tuple(out);
      })
      .def_prop_ro("variable", [](const GradFn& f) -> nb::object {
        return f.leaf ? nb::cast(Tensor(f.leaf)) : nb::none();
      })
      .def("__repr__", [](const GradFn& f) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " object at %p>",
                      f.node ? (void*)f.node.get() : (void*)f.leaf.get());
        return "<" + f.name() + buf;
      })
      .def("__eq__", [](const GradFn& a, nb::handle b) {
        return nb::isinstance<GradFn>(b) && nb::cast<GradFn>(b).node == a.node &&
               nb::cast<GradFn>(b).leaf == a.leaf;
      })
      .def("__hash__", [](const GradFn& f) {
        return (int64_t)(intptr_t)(f.node ? (void*)f.node.get() : (void*)f.leaf.get());
      });

  nb::handle tensor = nb::type<Tensor>();
  nb::setattr(tensor, "grad_fn", nb::steal(PyObject_CallFunctionObjArgs(
      (PyObject*)&PyProperty_Type,
      nb::cpp_function([](const Tensor& t) -> nb::object {
        if (!t.grad_fn() || !t.requires_grad()) return nb::none();
        return nb::cast(GradFn{t.grad_fn(), nullptr});
      }).ptr(), nullptr)));

  m.def("_backward", [](const Tensor& t, nb::handle gradient, std::optional<bool> retain_graph,
                        bool create_graph, nb::handle inputs) {
    t.backward(gradient.is_none() ? Tensor() : nb::cast<Tensor>(gradient), create_graph,
               retain_graph, tensors(inputs));
  }, nb::arg("self"), nb::arg("gradient").none(), nb::arg("retain_graph").none(),
     nb::arg("create_graph"), nb::arg("inputs").none());
  m.def("_autograd_grad", [](nb::handle outputs, nb::handle inputs, nb::handle grad_outputs,
                             std::optional<bool> retain_graph, bool create_graph,
                             bool allow_unused) {
    std::vector<Tensor> res = autograd::grad(tensors(outputs), tensors(inputs),
                                             tensors(grad_outputs), create_graph, allow_unused,
                                             retain_graph);
    nb::list out;
    for (const Tensor& t : res) out.append(to_py(t));
    return nb::tuple(out);
  }, nb::arg("outputs"), nb::arg("inputs"), nb::arg("grad_outputs").none(),
     nb::arg("retain_graph").none(), nb::arg("create_graph"), nb::arg("allow_unused"));
  m.def("_version", [](const Tensor& t) { return t.version(); });
  m.def("_retain_grad", [](const Tensor& t) { autograd::retain_grad(t); });
  m.def("_retains_grad", [](const Tensor& t) { return autograd::retains_grad(t); });
  m.def("_register_hook", [](const Tensor& t, nb::object fn) {
    return autograd::register_hook(t, as_hook(std::move(fn)));
  });
  m.def("_remove_hook", [](const Tensor& t, int64_t id) { autograd::remove_hook(t, id); });
  m.def("_detach_", [](Tensor& t) -> Tensor& { return t.detach_(); }, nb::rv_policy::reference);
  // A custom function's node: backward(grad) -> list of gradients (None where there is none),
  // release() frees what the context saved.
  m.def("_record_custom", [](const Tensor& output, nb::handle inputs, nb::object backward,
                             nb::object release, const std::string& name) {
    auto fn = std::make_shared<CustomBackward>();
    fn->name = name;
    fn->backward = [backward](const Tensor& g, const Tensor& output) {
      nb::gil_scoped_acquire gil;
      return tensors(backward(g, to_py(output)));
    };
    fn->release = [release] {
      nb::gil_scoped_acquire gil;
      release();
    };
    return autograd::record_custom(output, tensors(inputs), std::move(fn));
  });
}
