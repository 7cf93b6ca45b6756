// ember.compile(dynamic=True): one function traced at a few sizes of its symbolic dims becomes
// one compiled graph with dynamic (`?`) dims. The trace schedule and the affine fit are shared
// with ember.export (Export.cpp).
#include "ember/compiler/Compile.h"

#include "ember/runtime/Error.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

namespace ember::compiler {

std::vector<std::vector<int64_t>> symbolicTraceSizes(const std::vector<int64_t>& base) {
  std::vector<std::vector<int64_t>> sizes{base};
  for (size_t j = 0; j < base.size(); ++j) {
    sizes.push_back(base);
    sizes.back()[j] += 1;
  }
  if (!base.empty()) {
    sizes.push_back(base);
    for (size_t j = 0; j < base.size(); ++j) sizes.back()[j] += int64_t(j) + 2;
  }
  return sizes;
}

std::optional<std::vector<int64_t>> fitAffine(const std::vector<int64_t>& values,
                                              const std::vector<std::vector<int64_t>>& sizes) {
  const size_t k = sizes.empty() ? 0 : sizes[0].size();
  if (values.size() != sizes.size() || sizes.size() != (k ? k + 2 : 1)) return std::nullopt;
  std::vector<int64_t> f{values[0]};
  for (size_t j = 0; j < k; ++j) {
    const int64_t c = values[1 + j] - values[0];
    f.push_back(c);
    f[0] -= c * sizes[0][j];
  }
  if (k) {
    int64_t check = f[0];
    for (size_t j = 0; j < k; ++j) check += f[1 + j] * sizes[k + 1][j];
    if (check != values[k + 1]) return std::nullopt;
  }
  return f;
}

namespace {

constexpr const char* kCtx = "ember.compile(dynamic=True)";

std::string sizesText(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t j = 0; j < s.size(); ++j) out += (j ? ", " : "") + std::string("s") + std::to_string(j) + "=" + std::to_string(s[j]);
  return out;
}

// Where each value of a trace comes from: input i, constant i or step i, by position.
std::unordered_map<const TensorImpl*, std::string> positions(const Graph& g) {
  std::unordered_map<const TensorImpl*, std::string> m;
  for (size_t i = 0; i < g.inputs.size(); ++i) m[g.inputs[i].unsafe_impl()] = "input " + std::to_string(i);
  for (size_t i = 0; i < g.constants.size(); ++i) m[g.constants[i].unsafe_impl()] = "constant " + std::to_string(i);
  for (size_t i = 0; i < g.steps.size(); ++i) m[g.steps[i].output.unsafe_impl()] = "step " + std::to_string(i);
  return m;
}

// Primitives whose attributes hold a target shape: their sizes are fitted from the types.
bool shapeAttrs(Prim p) { return p == Prim::Reshape || p == Prim::Expand; }

// A slice whose end follows the batch (x[1:], x[:-1], the no-op x[:] of x[:, 1:3]) or its
// gradient (whose full size does too): the lowering reads the window's size from the types, so
// those attributes may differ between the traces (the result's size must still be affine).
bool sliceEndsFollow(const Node& a, const Node& b) {
  const Shape &x = a.attrs.ints, &y = b.attrs.ints;
  if (a.prim != b.prim || x.size() != y.size()) return false;
  if (a.prim == Prim::Slice && x.size() == 4) return x[0] == y[0] && x[1] == y[1] && x[3] == y[3];
  if (a.prim == Prim::SliceBackward && x.size() == 5) return x[0] == y[0] && x[1] == y[1] && x[3] == y[3];
  return false;
}

std::vector<double> valuesOf(const Tensor& t) {
  Tensor d = t.to(DType::Float64).contiguous();
  return std::vector<double>(d.data<double>(), d.data<double>() + d.numel());
}

} // namespace

CompiledGraph CompiledGraph::compileSymbolic(const std::vector<Graph>& traces,
                                             const std::vector<std::vector<int64_t>>& sizes,
                                             const std::vector<std::pair<int64_t, int64_t>>& sources,
                                             const std::string& dumpDir) {
  auto start = std::chrono::steady_clock::now();
  const size_t k = sources.size();
  EMBER_CHECK(k >= 1 && traces.size() == k + 2 && sizes.size() == traces.size() &&
                  sizes == symbolicTraceSizes(sizes[0]),
              Value, kCtx, "needs ", k + 2, " traces at the sizes of symbolicTraceSizes, got ",
              traces.size());
  const Graph& g0 = traces[0];
  for (auto [input, dim] : sources)
    EMBER_CHECK(input >= 0 && input < int64_t(g0.inputs.size()) && dim >= 0 &&
                    dim < int64_t(g0.inputs[size_t(input)].dim()),
                Index, kCtx, "a symbol names dim ", dim, " of input ", input, ", which does not exist");

  // The traces must be the same graph but for sizes (the function must not branch on a size).
  const auto pos0 = positions(g0);
  for (size_t t = 1; t < traces.size(); ++t) {
    const Graph& g = traces[t];
    const std::string at = " at " + sizesText(sizes[t]) + " than at " + sizesText(sizes[0]);
    EMBER_CHECK(g.inputs.size() == g0.inputs.size() && g.constants.size() == g0.constants.size() &&
                    g.steps.size() == g0.steps.size() && g.outputs.size() == g0.outputs.size() &&
                    g.state_writes == g0.state_writes && g.grad_writes == g0.grad_writes &&
                    g.grad_clears == g0.grad_clears,
                Value, kCtx, "the function traces to a different graph", at, " (", g.steps.size(),
                " steps vs ", g0.steps.size(), "): it branches on a size; compile it with static "
                "shapes (dynamic=False)");
    const auto pos = positions(g);
    for (size_t i = 0; i < g.steps.size(); ++i) {
      const Node& a = *g0.steps[i].node;
      const Node& b = *g.steps[i].node;
      bool same = a.prim == b.prim && a.dtype == b.dtype && a.inputs.size() == b.inputs.size() &&
                  a.attrs.keepdim == b.attrs.keepdim;
      for (size_t j = 0; same && j < a.inputs.size(); ++j)
        same = pos0.at(a.inputs[j].unsafe_impl()) == pos.at(b.inputs[j].unsafe_impl());
      EMBER_CHECK(same, Value, kCtx, "the function traces to a different graph", at, " (graph node ", i,
                  ": ember.", prim_name(a.prim), " vs ember.", prim_name(b.prim),
                  "): it branches on a size; compile it with static shapes (dynamic=False)");
      EMBER_CHECK(shapeAttrs(a.prim) || a.attrs.ints == b.attrs.ints ||
                      sliceEndsFollow(a, b),
                  NotImplemented, kCtx,
                  "the arguments of ember.", prim_name(a.prim), " (graph node ", i, ") change with the "
                  "batch size (", shape_str(a.attrs.ints), at, " ", shape_str(b.attrs.ints),
                  "; e.g. a slice of the batch dim with a start that follows it, x[-2:]); dynamic shapes "
                  "do not cover that yet: "
                  "compile it with static shapes (dynamic=False)");
    }
    for (size_t i = 0; i < g.outputs.size(); ++i)
      EMBER_CHECK(pos0.count(g0.outputs[i].unsafe_impl()) && pos.count(g.outputs[i].unsafe_impl()) &&
                      pos0.at(g0.outputs[i].unsafe_impl()) == pos.at(g.outputs[i].unsafe_impl()),
                  Value, kCtx, "output ", i, " comes from a different value", at);
  }

  // Every value's dims as affine functions of the symbols.
  SymbolicDims dims;
  dims.sources = sources;
  auto fitValue = [&](const std::function<const Tensor&(const Graph&)>& get, const std::string& what) {
    const Tensor& v0 = get(g0);
    std::vector<std::vector<int64_t>> formulas;
    bool dynamic = false;
    for (size_t d = 0; d < v0.shape().size(); ++d) {
      std::vector<int64_t> values;
      for (const Graph& g : traces) {
        const Shape& s = get(g).shape();
        EMBER_CHECK(s.size() == v0.shape().size(), Value, kCtx, what, " changes rank with the "
                    "batch size; compile it with static shapes (dynamic=False)");
        values.push_back(s[d]);
      }
      std::optional<std::vector<int64_t>> f = fitAffine(values, sizes);
      EMBER_CHECK(f.has_value(), NotImplemented, kCtx, "dim ", d, " of ", what, " (", values[0],
                  " at ", sizesText(sizes[0]), ") is not an affine function of the symbolic sizes "
                  "(e.g. a strided slice of it, x[::2], or a reshape that merges two of them); compile "
                  "it with static shapes "
                  "(dynamic=False)");
      for (size_t j = 1; j < f->size(); ++j) dynamic |= (*f)[j] != 0;
      formulas.push_back(*f);
    }
    if (dynamic) dims.sizes[v0.unsafe_impl()] = formulas;
  };
  for (size_t i = 0; i < g0.inputs.size(); ++i)
    fitValue([i](const Graph& g) -> const Tensor& { return g.inputs[i]; }, "input " + std::to_string(i));
  for (size_t i = 0; i < g0.steps.size(); ++i)
    fitValue([i](const Graph& g) -> const Tensor& { return g.steps[i].output; },
             "the result of ember." + std::string(prim_name(g0.steps[i].node->prim)) + " (graph node " +
                 std::to_string(i) + ")");
  for (auto [input, dim] : sources) {
    auto it = dims.sizes.find(g0.inputs[size_t(input)].unsafe_impl());
    EMBER_CHECK(it != dims.sizes.end(), Value, kCtx, "dim ", dim, " of input ", input,
                " is marked symbolic but the traces do not change it");
  }

  // Constants: the same at every size, or a 0-d number affine in the symbols (a mean's count),
  // which becomes an input computed at each call.
  Graph g = g0;
  std::vector<SymbolicScalar> scalars;
  for (size_t c = 0; c < g0.constants.size(); ++c) {
    const Tensor& c0 = g0.constants[c];
    std::string user = "the graph's outputs";
    for (const Graph::Step& s : g0.steps)
      for (const Tensor& in : s.node->inputs)
        if (in.unsafe_impl() == c0.unsafe_impl()) user = std::string("ember.") + prim_name(s.node->prim);
    std::vector<std::vector<double>> values;
    bool differs = false, reshaped = false, fill = true;
    for (const Graph& t : traces) {
      values.push_back(valuesOf(t.constants[c]));
      reshaped |= t.constants[c].shape() != c0.shape();
      differs |= values.back() != values[0];
      const auto& v = values.back();
      for (double x : v) fill = fill && x == v[0];
      fill = fill && !v.empty();
    }
    if (!reshaped && !differs) continue;
    // What follows the batch must be one value repeated (zeros_like / ones of a traced shape,
    // a mean's count, its gradient's 1/count): its shape is fitted like a value's, and a value
    // that changes becomes an input computed at each call.
    EMBER_CHECK(fill, NotImplemented, kCtx, "a constant tensor used by ", user, " (shape ",
                shape_str(c0.shape()), " at ", sizesText(sizes[0]), ") changes with the batch size "
                "and is not one value repeated (made from data with a size read from an input?); "
                "compute it from the input instead, or compile with static shapes (dynamic=False)");
    if (reshaped)
      fitValue([c](const Graph& t) -> const Tensor& { return t.constants[c]; },
               "a constant used by " + user);
    differs = false; // the fill's value, whatever its size
    for (const auto& v : values) differs |= v[0] != values[0][0];
    if (!differs) continue;
    // value = f(symbols) (a count), 1 / f(symbols) (its reciprocal) or 1 + 1 / f(symbols)
    // (n / (n - 1), f = n - 1), checked at every trace against the traced value as float32
    // computes it.
    using Form = CompiledGraph::ScalarForm;
    std::optional<std::vector<int64_t>> f;
    Form form = Form::Count;
    if (is_floating(c0.dtype()))
      for (Form candidate : {Form::Count, Form::Reciprocal, Form::OnePlusReciprocal}) {
        std::vector<int64_t> ints;
        bool integral = true;
        for (const auto& v : values) {
          const double x = candidate == Form::Count        ? v[0]
                           : candidate == Form::Reciprocal ? 1.0 / v[0]
                                                           : 1.0 / (v[0] - 1.0);
          const double r = std::round(x);
          integral = integral && std::isfinite(x) && std::abs(r) < 1e12 &&
                     std::abs(x - r) <= 1e-5 * std::max(1.0, std::abs(r));
          ints.push_back(integral ? int64_t(r) : 0);
        }
        if (!integral) continue;
        std::optional<std::vector<int64_t>> fit = fitAffine(ints, sizes);
        if (!fit) continue;
        bool exact = true;
        for (size_t t = 0; t < traces.size(); ++t) {
          int64_t n = (*fit)[0];
          for (size_t j = 0; j < k; ++j) n += (*fit)[1 + j] * sizes[t][j];
          const float want = float(values[t][0]);
          const float got = float(CompiledGraph::scalarValue(candidate, n));
          exact = exact && std::abs(got - want) <= 1e-6f * std::abs(want);
        }
        if (exact) {
          f = fit;
          form = candidate;
          break;
        }
      }
    EMBER_CHECK(f.has_value(), NotImplemented, kCtx, "a constant used by ", user,
                " changes with the batch size (", values[0][0], " at ", sizesText(sizes[0]), ", ",
                values[1][0], " at ", sizesText(sizes[1]), ") in a way dynamic shapes do not cover "
                "(a count affine in the batch size, such as a mean's, its reciprocal, or n / (n - 1) "
                "of such a count is covered); compile it with static shapes (dynamic=False)");
    dims.scalarInputs[c0.unsafe_impl()] = int64_t(g.inputs.size());
    g.inputs.push_back(full({}, values[0][0], DType::Float32));
    scalars.push_back({*f, form});
  }

  std::string ir = graphToMLIR(g, "main", &dims);
  const double importSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!dumpDir.empty()) {
    std::filesystem::create_directories(dumpDir);
    std::ofstream(dumpDir + "/graph.txt") << graphText(g);
    std::ofstream(dumpDir + "/ember.mlir") << ir;
  }
  JitModule jit = JitModule::compile(ir, dumpDir);
  std::vector<Shape> in = jit.inputShapes("main"), out = jit.outputShapes("main");
  CompiledGraph c(std::move(jit), ir, "main", std::move(in), std::move(out));
  c.times_.import = importSeconds;
  c.sources_ = sources;
  c.scalars_ = std::move(scalars);
  return c;
}

} // namespace ember::compiler
