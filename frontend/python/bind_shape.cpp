// Python bindings of the shape and indexing ops (ember/ShapeOps.h) as ember._C._shape_*;
// ember/_shape.py gives them PyTorch's signatures and Tensor methods.
#include "ember/ShapeOps.h"

#include "ember/runtime/Error.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

namespace nb = nanobind;
using namespace ember;

namespace {

// None entries become undefined tensors (a whole dimension in index / index_put).
std::vector<Tensor> optional_tensors(nb::handle seq) {
  std::vector<Tensor> out;
  for (nb::handle h : seq) out.push_back(h.is_none() ? Tensor() : nb::cast<Tensor>(h));
  return out;
}

} // namespace

void bind_shape(nb::module_& m) {
  nb::module_ s = m.def_submodule("_shape", "shape and indexing ops");
  s.def("split", [](const Tensor& a, int64_t size, int64_t dim) { return split(a, size, dim); });
  s.def("split_with_sizes", [](const Tensor& a, const Shape& sizes, int64_t dim) {
    return split_with_sizes(a, sizes, dim);
  });
  s.def("chunk", [](const Tensor& a, int64_t chunks, int64_t dim) { return chunk(a, chunks, dim); });
  s.def("unbind", [](const Tensor& a, int64_t dim) { return unbind(a, dim); });
  s.def("unflatten", &unflatten);
  s.def("movedim", &movedim);
  s.def("repeat", &repeat);
  s.def("tile", &tile);
  s.def("repeat_interleave_int", [](const Tensor& a, int64_t r, std::optional<int64_t> d) {
    return repeat_interleave(a, r, d);
  }, nb::arg("a"), nb::arg("repeats"), nb::arg("dim").none());
  s.def("repeat_interleave_tensor", [](const Tensor& a, const Tensor& r, std::optional<int64_t> d) {
    return repeat_interleave(a, r, d);
  }, nb::arg("a"), nb::arg("repeats"), nb::arg("dim").none());
  s.def("repeat_interleave_index", [](const Tensor& r) { return repeat_interleave(r); });
  s.def("flip", &flip);
  s.def("roll", &roll);
  s.def("tril", &tril);
  s.def("triu", &triu);
  s.def("gather", &gather);
  s.def("scatter", [](const Tensor& a, int64_t d, const Tensor& i, const Tensor& src) {
    return scatter(a, d, i, src);
  });
  s.def("scatter_value", [](const Tensor& a, int64_t d, const Tensor& i, double v) {
    return scatter(a, d, i, v);
  });
  s.def("scatter_add", &scatter_add);
  s.def("index_add", &index_add);
  s.def("index_copy", &index_copy);
  s.def("take_along_dim", &take_along_dim, nb::arg("a"), nb::arg("indices"), nb::arg("dim").none());
  s.def("masked_fill", &masked_fill);
  s.def("masked_select", &masked_select);
  s.def("sort", &sort);
  s.def("argsort", &argsort);
  s.def("topk", &topk);
  s.def("nonzero", &nonzero);
  s.def("unique", &unique);
  s.def("unfold", &unfold);
  s.def("index", [](const Tensor& a, nb::handle indices) { return index(a, optional_tensors(indices)); });
  s.def("index_put", [](const Tensor& a, nb::handle indices, const Tensor& v, bool acc) {
    return index_put(a, optional_tensors(indices), v, acc);
  });
  s.def("assign_", [](Tensor& self, const Tensor& result, const std::string& op) -> Tensor& {
    return assign_(self, result, op.c_str());
  }, nb::rv_policy::reference);
}
