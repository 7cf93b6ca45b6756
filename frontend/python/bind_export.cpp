// Python bindings for ember.export / ember.load_exported (compiler/include/ember/compiler/Export.h).
#include "ember/compiler/Export.h"
#include "ember/runtime/Error.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace ember;

namespace {

std::vector<Tensor> tensors(nb::handle seq, const char* op) {
  std::vector<Tensor> out;
  for (nb::handle h : seq) {
    EMBER_CHECK(nb::isinstance<Tensor>(h), Type, op, "expected Tensors, got ",
                nb::type_name(h.type()).c_str());
    out.push_back(nb::cast<Tensor>(h));
  }
  return out;
}

nb::list shape_list(const std::vector<compiler::AffineInt>& shape) {
  nb::list out;
  for (const compiler::AffineInt& d : shape) {
    if (d.isStatic()) out.append(d.base);
    else out.append(d.text());
  }
  return out;
}

nb::list specs(const std::vector<compiler::TensorSpec>& ts) {
  nb::list out;
  for (const auto& t : ts) {
    nb::dict d;
    d["name"] = t.name;
    d["dtype"] = t.dtype;
    d["shape"] = shape_list(t.shape);
    out.append(d);
  }
  return out;
}

} // namespace

void bind_export(nb::module_& m) {
  nb::class_<ExportedModel>(m, "ExportedModel")
      .def("run", [](ExportedModel& e, nb::handle inputs) {
        return e.run(tensors(inputs, "ember.load_exported"));
      })
      .def("run_named", [](ExportedModel& e, const std::map<std::string, Tensor>& named) {
        return e.run(named);
      })
      .def_prop_ro("input_names", &ExportedModel::input_names)
      .def_prop_ro("output_names", &ExportedModel::output_names)
      .def_prop_ro("num_specializations", &ExportedModel::num_specializations)
      .def_prop_ro("graph", [](const ExportedModel& e) { return e.file().graph; })
      .def_prop_ro("info", [](const ExportedModel& e) {
        const compiler::EmberFile& f = e.file();
        nb::dict d;
        d["ember_version"] = f.emberVersion;
        d["producer"] = f.producer;
        d["inputs"] = specs(f.inputs);
        d["outputs"] = specs(f.outputs);
        nb::list symbols;
        for (const auto& s : f.symbols) symbols.append(nb::make_tuple(s.name, s.min, s.max));
        d["symbols"] = symbols;
        nb::list weights;
        for (const auto& w : f.weights) weights.append(nb::make_tuple(w.name, w.shape));
        d["weights"] = weights;
        d["metadata"] = f.metadata;
        return d;
      });
  m.def("_load_exported", &load_exported, nb::arg("path"));
  // fn: list of tensors -> list of tensors. dynamic: per input {dim: (name, min, max)}.
  m.def("_export_model", [](nb::callable fn, nb::handle examples, const std::string& path,
                            const std::vector<std::string>& input_names,
                            const std::vector<std::string>& output_names,
                            const std::vector<std::map<int64_t, std::tuple<std::string, int64_t, int64_t>>>& dynamic,
                            const std::vector<std::pair<std::string, Tensor>>& weights,
                            const std::map<std::string, std::string>& metadata,
                            const std::string& producer) {
    ExportOptions o;
    o.input_names = input_names;
    o.output_names = output_names;
    for (const auto& dims : dynamic) {
      std::map<int64_t, Dim> one;
      for (const auto& [dim, spec] : dims)
        one[dim] = Dim{std::get<0>(spec), std::get<1>(spec), std::get<2>(spec)};
      o.dynamic_shapes.push_back(one);
    }
    o.weights = weights;
    o.metadata = metadata;
    o.producer = producer;
    auto call = [&](const std::vector<Tensor>& inputs) {
      nb::list args;
      for (const Tensor& t : inputs) args.append(nb::cast(t));
      return tensors(fn(args), "ember.export");
    };
    export_model(call, tensors(examples, "ember.export"), path, o);
  }, nb::arg("fn"), nb::arg("example_inputs"), nb::arg("path"), nb::arg("input_names"),
     nb::arg("output_names"), nb::arg("dynamic_shapes"), nb::arg("weights"), nb::arg("metadata"),
     nb::arg("producer"));
}
