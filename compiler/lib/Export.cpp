// ember::export_model: trace, lift the weights, find the integers of the graph that follow the
// symbolic dims, write the .ember container. ember::load_exported: read it back and run it through
// the JIT, one specialisation per concrete size.
#include "ember/compiler/Export.h"

#include "ember/nn/Module.h"
#include "ember/runtime/Error.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <set>
#include <unordered_map>

namespace ember {
namespace {

using compiler::AffineInt;
using compiler::EmberFile;

constexpr const char* kCtx = "ember.export";

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

std::vector<std::string> ioNames(const std::vector<std::string>& given, size_t n, const char* kind) {
  EMBER_CHECK(given.empty() || given.size() == n, Value, kCtx, "got ", given.size(), " ", kind,
              " names for ", n, " ", kind, "s");
  std::vector<std::string> out = given;
  for (size_t i = out.size(); i < n; ++i) out.push_back(std::string(kind) + std::to_string(i));
  std::set<std::string> seen;
  for (const std::string& s : out) {
    EMBER_CHECK(validName(s), Value, kCtx, kind, " name '", s, "' is not allowed: use letters, "
                "digits, '_', '.' and '-' (it becomes a C string and a CLI argument)");
    EMBER_CHECK(seen.insert(s).second, Value, kCtx, kind, " name '", s, "' is used twice");
  }
  return out;
}

// One token of the graph text: a run of digits or a run of anything else.
struct Token {
  size_t begin, end;
  bool number, inString;
};

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  bool inString = false;
  for (size_t i = 0; i < s.size();) {
    const bool digit = s[i] >= '0' && s[i] <= '9';
    size_t j = i;
    const bool startedInString = inString;
    while (j < s.size() && (s[j] >= '0' && s[j] <= '9') == digit) {
      if (!digit && s[j] == '"' && (j == 0 || s[j - 1] != '\\')) inString = !inString;
      ++j;
    }
    out.push_back({i, j, digit, startedInString || inString});
    i = j;
  }
  return out;
}

// Whether the digits at [b, e) belong to a floating-point literal (1.5e-01).
bool inFloat(const std::string& s, size_t b, size_t e) {
  auto part = [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'; };
  while (b > 0 && part(s[b - 1])) --b;
  while (e < s.size() && part(s[e])) ++e;
  const std::string span = s.substr(b, e - b);
  if (span.find('.') != std::string::npos) return true;
  for (size_t i = 1; i < span.size(); ++i)
    if ((span[i] == 'e' || span[i] == 'E') && span[i - 1] >= '0' && span[i - 1] <= '9') return true;
  return false;
}

std::string lineAround(const std::string& s, size_t at) {
  size_t b = s.rfind('\n', at);
  b = b == std::string::npos ? 0 : b + 1;
  size_t e = s.find('\n', at);
  std::string line = s.substr(b, (e == std::string::npos ? s.size() : e) - b);
  line.erase(0, line.find_first_not_of(' '));
  return line.size() > 160 ? line.substr(0, 160) + "..." : line;
}

// The traces of one export: the base sizes, one per symbol with that symbol one larger, and a
// check with every symbol larger by a different amount.
struct Traces {
  std::vector<Dim> symbols;
  std::vector<int64_t> base;                 // example size per symbol
  std::vector<std::vector<int64_t>> sizes;   // symbol values per trace
  std::vector<std::string> ir;
  std::vector<std::vector<Shape>> outShapes;
};

// value = b + sum a_j s_j (compiler::fitAffine, shared with ember.compile(dynamic=True));
// nullopt when the values are not affine in the symbols.
std::optional<AffineInt> fit(const Traces& t, const std::vector<int64_t>& values) {
  std::optional<std::vector<int64_t>> f = compiler::fitAffine(values, t.sizes);
  if (!f) return std::nullopt;
  AffineInt a;
  a.base = (*f)[0];
  for (size_t j = 0; j < t.symbols.size(); ++j)
    if ((*f)[1 + j]) a.coeffs.push_back({t.symbols[j].name, (*f)[1 + j]});
  std::sort(a.coeffs.begin(), a.coeffs.end());
  return a;
}

std::string sizesText(const Traces& t, size_t trace) {
  std::string s;
  for (size_t j = 0; j < t.symbols.size(); ++j)
    s += (j ? ", " : "") + t.symbols[j].name + "=" + std::to_string(t.sizes[trace][j]);
  return s;
}

} // namespace

void export_model(const ExportFn& fn, const std::vector<Tensor>& example_inputs,
                  const std::string& path, const ExportOptions& options) {
  const size_t ni = example_inputs.size();
  EmberFile file;
  file.producer = options.producer;
  const std::vector<std::string> inNames = ioNames(options.input_names, ni, "input");
  for (size_t i = 0; i < ni; ++i) {
    const Tensor& x = example_inputs[i];
    EMBER_CHECK(x.defined(), Value, kCtx, "example input '", inNames[i], "' is undefined");
    const DType d = x.dtype();
    EMBER_CHECK(d == DType::Float32 || d == DType::Int64 || d == DType::Int32 || d == DType::Bool,
                NotImplemented, kCtx, "example input '", inNames[i], "' is ", dtype_name(d),
                "; exported models take float32, int64, int32 and bool inputs so far (convert it "
                "with .float() or .long())");
  }
  for (const auto& [k, v] : options.metadata)
    EMBER_CHECK(!k.empty(), Value, kCtx, "metadata keys must not be empty");

  // Symbols, in order of first use; the same name must mean the same Dim and example size.
  Traces t;
  EMBER_CHECK(options.dynamic_shapes.size() <= ni, Value, kCtx, "dynamic_shapes has ",
              options.dynamic_shapes.size(), " entries for ", ni, " inputs");
  std::vector<std::vector<int>> symbolOf(ni); // per input and dim: symbol index or -1
  for (size_t i = 0; i < ni; ++i) {
    const Shape& shape = example_inputs[i].shape();
    symbolOf[i].assign(shape.size(), -1);
    if (i >= options.dynamic_shapes.size()) continue;
    for (const auto& [dim, d] : options.dynamic_shapes[i]) {
      EMBER_CHECK(dim >= 0 && dim < int64_t(shape.size()), Index, kCtx, "dynamic_shapes marks dim ", dim,
                  " of input '", inNames[i], "', which has rank ", shape.size());
      EMBER_CHECK(validName(d.name) && d.name.find_first_of(".-") == std::string::npos, Value, kCtx,
                  "symbolic dim name '", d.name, "' is not an identifier");
      EMBER_CHECK(d.min >= 1 && d.max >= d.min, Value, kCtx, "symbolic dim '", d.name, "' has range [",
                  d.min, ", ", d.max, "]; use 1 <= min <= max");
      const int64_t size = shape[size_t(dim)];
      EMBER_CHECK(size >= 2, Value, kCtx, "dim ", dim, " of example input '", inNames[i], "' is marked "
                  "symbolic ('", d.name, "') but has size ", size, ": size-1 dims broadcast, so the "
                  "trace would not hold for other sizes; use an example of size 2 or more");
      EMBER_CHECK(size >= d.min && size <= d.max, Value, kCtx, "dim ", dim, " of example input '",
                  inNames[i], "' is ", size, ", outside the range of '", d.name, "'");
      int idx = -1;
      for (size_t j = 0; j < t.symbols.size(); ++j)
        if (t.symbols[j].name == d.name) idx = int(j);
      if (idx < 0) {
        t.symbols.push_back(d);
        t.base.push_back(size);
        idx = int(t.symbols.size() - 1);
      } else {
        EMBER_CHECK(t.symbols[size_t(idx)].min == d.min && t.symbols[size_t(idx)].max == d.max, Value,
                    kCtx, "symbolic dim '", d.name, "' is declared twice with different ranges");
        EMBER_CHECK(t.base[size_t(idx)] == size, Value, kCtx, "inputs share the symbolic dim '", d.name,
                    "' but their example sizes differ (", t.base[size_t(idx)], " and ", size,
                    " in input '", inNames[i], "')");
      }
      symbolOf[i][size_t(dim)] = idx;
    }
  }
  const size_t k = t.symbols.size();
  t.sizes = compiler::symbolicTraceSizes(t.base); // shared with ember.compile(dynamic=True)

  std::vector<bool> requiresGrad; // a training step differentiates with respect to its inputs
  for (const Tensor& x : example_inputs) requiresGrad.push_back(x.requires_grad());

  // Candidates for weights: float32 named tensors; unnamed constants that require grad too.
  std::unordered_map<TensorImpl*, std::string> weightName;
  std::vector<Tensor> candidates;
  for (const auto& [name, w] : options.weights) {
    if (!w.defined() || w.dtype() != DType::Float32 || w.is_symbolic()) continue;
    if (weightName.emplace(w.unsafe_impl(), name).second) candidates.push_back(w);
  }

  // While tracing, the weights require grad, so ops on them are recorded (not computed once, as
  // ops on constants are: F.linear's transpose of a closure tensor would become a new constant).
  struct MarkWeights {
    std::vector<Tensor> marked;
    ~MarkWeights() {
      for (Tensor& w : marked) w.set_requires_grad(false);
    }
  } mark;
  for (Tensor& w : candidates)
    if (!w.requires_grad() && !w.grad_fn()) {
      w.set_requires_grad(true);
      mark.marked.push_back(w);
    }

  std::vector<Tensor> lifted;
  std::vector<DType> dtypes;
  for (const Tensor& x : example_inputs) dtypes.push_back(x.dtype());
  std::vector<DType> outDTypes;
  for (size_t tr = 0; tr < t.sizes.size(); ++tr) {
    std::vector<Shape> shapes;
    for (size_t i = 0; i < ni; ++i) {
      Shape s = example_inputs[i].shape();
      for (size_t d = 0; d < s.size(); ++d)
        if (symbolOf[i][d] >= 0) s[d] = t.sizes[tr][size_t(symbolOf[i][d])];
      shapes.push_back(s);
    }
    Graph g;
    try {
      g = trace(fn, shapes, requiresGrad, dtypes);
    } catch (const std::exception& e) { // ember::Error, or a Python error from a Python function
      if (tr == 0) throw;
      const auto* err = dynamic_cast<const Error*>(&e);
      fail(err ? err->kind() : ErrorKind::Value, kCtx, "tracing with the symbolic dims at ",
           sizesText(t, tr), " failed, so the function does not work for every size of them (",
           e.what(), "); mark fewer dims symbolic, or make the function follow x.shape");
    }
    EMBER_CHECK(g.random.empty(), NotImplemented, kCtx, "the function draws random numbers "
                "(dropout in training mode, ember.rand, ...), which exported models do not take "
                "yet; export it in eval mode (model.eval()) or pass the numbers in as inputs");
    std::vector<Tensor> lift = lift_constants(g, candidates);
    for (const Tensor& w : lift)
      EMBER_CHECK(w.dtype() == DType::Float32, NotImplemented, kCtx, "the function reads a ",
                  dtype_name(w.dtype()), " tensor that requires grad; exported weights are float32 "
                  "so far (convert the model with .float())");
    if (tr == 0) {
      lifted = lift;
    } else {
      bool same = lift.size() == lifted.size();
      for (size_t i = 0; same && i < lift.size(); ++i) same = lift[i].unsafe_impl() == lifted[i].unsafe_impl();
      EMBER_CHECK(same, Value, kCtx, "the function reads different weights at ", sizesText(t, tr),
                  " than at ", sizesText(t, 0), "; it cannot be exported with these symbolic dims");
    }
    t.ir.push_back(compiler::graphToMLIR(g, "main"));
    std::vector<Shape> outs;
    for (const Tensor& o : g.outputs) outs.push_back(o.shape());
    t.outShapes.push_back(outs);
    if (tr == 0)
      for (const Tensor& o : g.outputs) outDTypes.push_back(o.dtype());
  }
  const std::vector<Shape>& outShapes = t.outShapes[0];
  const std::vector<std::string> outNames = ioNames(options.output_names, outShapes.size(), "output");

  // The integers of the graph text that follow the symbols.
  file.graph = t.ir[0];
  if (k) {
    std::vector<std::vector<Token>> toks;
    for (const std::string& s : t.ir) toks.push_back(tokenize(s));
    for (size_t tr = 1; tr < toks.size(); ++tr)
      EMBER_CHECK(toks[tr].size() == toks[0].size(), Value, kCtx, "the traced graph at ",
                  sizesText(t, tr), " has a different structure than at ", sizesText(t, 0),
                  " (the function branches on a symbolic size); it cannot be exported with these "
                  "symbolic dims");
    for (size_t i = 0; i < toks[0].size(); ++i) {
      const Token& tok = toks[0][i];
      std::vector<std::string> texts;
      for (size_t tr = 0; tr < toks.size(); ++tr)
        texts.push_back(t.ir[tr].substr(toks[tr][i].begin, toks[tr][i].end - toks[tr][i].begin));
      bool differ = false;
      for (const std::string& s : texts) differ |= s != texts[0];
      if (!differ) continue;
      const std::string line = lineAround(t.ir[0], tok.begin);
      EMBER_CHECK(tok.number, Value, kCtx, "the traced graph changes structure with the symbolic dims "
                  "(at `", line, "`); it cannot be exported with these symbolic dims");
      EMBER_CHECK(!tok.inString && !inFloat(t.ir[0], tok.begin, tok.end), Value, kCtx,
                  "a constant of the graph depends on a symbolic dim (at `", line, "`: e.g. a mean "
                  "over it, or a tensor created with its size); export with static shapes or compute "
                  "it from the input");
      std::vector<int64_t> values;
      for (const std::string& s : texts) {
        EMBER_CHECK(s.size() <= 18, Value, kCtx, "an integer of the graph is too large (at `", line, "`)");
        values.push_back(std::stoll(s));
      }
      std::optional<AffineInt> a = fit(t, values);
      EMBER_CHECK(a.has_value(), Value, kCtx, "a size in the graph is not an affine function of the "
                  "symbolic dims (at `", line, "`: e.g. a reshape that merges two symbolic dims); "
                  "mark fewer dims symbolic");
      file.symbolicInts.push_back({tok.begin, tok.end - tok.begin, *a});
    }
  }

  for (size_t i = 0; i < ni; ++i) {
    compiler::TensorSpec spec{inNames[i], dtype_name(example_inputs[i].dtype()), {}};
    const Shape& s = example_inputs[i].shape();
    for (size_t d = 0; d < s.size(); ++d) {
      AffineInt a;
      if (symbolOf[i][d] >= 0) a.coeffs.push_back({t.symbols[size_t(symbolOf[i][d])].name, 1});
      else a.base = s[d];
      spec.shape.push_back(a);
    }
    file.inputs.push_back(spec);
  }
  for (size_t o = 0; o < outShapes.size(); ++o) {
    compiler::TensorSpec spec{outNames[o], dtype_name(outDTypes[o]), {}};
    for (size_t d = 0; d < outShapes[o].size(); ++d) {
      std::vector<int64_t> values;
      for (const auto& shapes : t.outShapes) values.push_back(shapes[o][d]);
      std::optional<AffineInt> a = k ? fit(t, values) : AffineInt{values[0], {}};
      EMBER_CHECK(a.has_value(), Value, kCtx, "dim ", d, " of output '", outNames[o],
                  "' is not an affine function of the symbolic dims");
      spec.shape.push_back(*a);
    }
    file.outputs.push_back(spec);
  }
  for (const Dim& d : t.symbols) file.symbols.push_back({d.name, d.min, d.max});

  // The weights, named; contiguous float32 copies in the safetensors blob.
  std::set<std::string> used(inNames.begin(), inNames.end());
  std::vector<Tensor> keep;
  std::vector<const float*> data;
  for (size_t i = 0; i < lifted.size(); ++i) {
    auto it = weightName.find(lifted[i].unsafe_impl());
    std::string name = it != weightName.end() ? it->second : "weight" + std::to_string(i);
    EMBER_CHECK(validName(name), Value, kCtx, "weight name '", name, "' is not allowed: use letters, "
                "digits, '_', '.' and '-'");
    while (!used.insert(name).second) name += "_";
    Tensor c = lifted[i].contiguous();
    EMBER_CHECK(c.device().is_cpu(), NotImplemented, kCtx, "weight '", name, "' is on ",
                c.device().str(), "; move the model to the CPU before exporting");
    keep.push_back(c);
    data.push_back(static_cast<const float*>(c.raw_data()));
    file.weights.push_back({name, c.shape(), 0, 0});
  }
  file.weightsBlob = compiler::encodeSafetensors(file.weights, data, &file.weightsDataStart);
  file.metadata = options.metadata;
  compiler::writeEmberFile(file, path, kCtx);
}

void export_model(nn::Module& module, const Tensor& example_input, const std::string& path,
                  ExportOptions options) {
  if (options.weights.empty()) options.weights = module.named_parameters();
  export_model([&](const std::vector<Tensor>& in) { return std::vector<Tensor>{module.forward(in[0])}; },
               {example_input}, path, options);
}

ExportedModel::ExportedModel(compiler::EmberFile file)
    : file_(std::make_shared<compiler::EmberFile>(std::move(file))) {
  for (const compiler::WeightInfo& w : file_->weights) {
    Tensor t = empty(w.shape);
    if (w.bytes) std::memcpy(t.raw_data(), file_->weightData(w), w.bytes);
    weights_.push_back(t);
  }
}

std::vector<std::string> ExportedModel::input_dtypes() const {
  std::vector<std::string> out;
  for (const auto& t : file_->inputs) out.push_back(t.dtype);
  return out;
}

std::vector<std::string> ExportedModel::input_names() const {
  std::vector<std::string> out;
  for (const auto& s : file_->inputs) out.push_back(s.name);
  return out;
}

std::vector<std::string> ExportedModel::output_names() const {
  std::vector<std::string> out;
  for (const auto& s : file_->outputs) out.push_back(s.name);
  return out;
}

std::vector<Tensor> ExportedModel::run(const std::map<std::string, Tensor>& named) {
  std::vector<Tensor> in;
  std::string known;
  for (const auto& s : file_->inputs) known += (known.empty() ? "" : ", ") + s.name;
  for (const auto& [name, t] : named) {
    bool found = false;
    for (const auto& s : file_->inputs) found |= s.name == name;
    EMBER_CHECK(found, Value, "ember.load_exported", "the model has no input '", name,
                "' (its inputs: ", known, ")");
  }
  for (const auto& s : file_->inputs) {
    auto it = named.find(s.name);
    EMBER_CHECK(it != named.end(), Value, "ember.load_exported", "input '", s.name,
                "' is missing (the model's inputs: ", known, ")");
    in.push_back(it->second);
  }
  return run(in);
}

std::vector<Tensor> ExportedModel::run(const std::vector<Tensor>& inputs) {
  const char* ctx = "ember.load_exported";
  const EmberFile& f = *file_;
  EMBER_CHECK(inputs.size() == f.inputs.size(), Value, ctx, "the model takes ", f.inputs.size(),
              " input(s), got ", inputs.size());
  std::vector<std::vector<int64_t>> shapes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].defined() && !inputs[i].is_symbolic(), Value, ctx, "input '", f.inputs[i].name,
                "' is not a concrete tensor");
    EMBER_CHECK(dtype_name(inputs[i].dtype()) == f.inputs[i].dtype, Type, ctx, "input '",
                f.inputs[i].name, "' is ", dtype_name(inputs[i].dtype()), " but the model takes ",
                f.inputs[i].dtype);
    EMBER_CHECK(inputs[i].device().is_cpu(), NotImplemented, ctx, "input '", f.inputs[i].name,
                "' is on ", inputs[i].device().str(), "; exported models run on the CPU so far");
    shapes.push_back(inputs[i].shape());
  }
  std::map<std::string, int64_t> values = compiler::bindSymbols(f, shapes, ctx);
  std::vector<int64_t> key;
  for (const auto& s : f.symbols) key.push_back(values[s.name]);
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    if (cache_.size() >= kMaxSpecializations) {
      cache_.erase(order_.front());
      order_.erase(order_.begin());
    }
    auto compiled = std::make_shared<compiler::CompiledGraph>(
        compiler::CompiledGraph::fromMLIR(compiler::specializeGraph(f, values, ctx), f.function));
    const auto& argShapes = compiled->inputShapes();
    EMBER_CHECK(argShapes.size() == f.inputs.size() + f.weights.size() &&
                    compiled->outputShapes().size() == f.outputs.size(),
                Value, ctx, "the graph of the file takes ", argShapes.size(), " arguments and gives ",
                compiled->outputShapes().size(), " results, but its metadata lists ", f.inputs.size(),
                " inputs + ", f.weights.size(), " weights and ", f.outputs.size(), " outputs: the file is corrupt");
    for (size_t i = 0; i < f.inputs.size(); ++i)
      EMBER_CHECK(dtype_name(compiled->inputDTypes()[i]) == f.inputs[i].dtype, Value, ctx, "input '",
                  f.inputs[i].name, "' is ", f.inputs[i].dtype, " in the metadata but ",
                  dtype_name(compiled->inputDTypes()[i]), " in the graph: the file is corrupt");
    for (size_t o = 0; o < f.outputs.size(); ++o)
      EMBER_CHECK(dtype_name(compiled->outputDTypes()[o]) == f.outputs[o].dtype, Value, ctx,
                  "output '", f.outputs[o].name, "' is ", f.outputs[o].dtype, " in the metadata but ",
                  dtype_name(compiled->outputDTypes()[o]), " in the graph: the file is corrupt");
    for (size_t w = 0; w < f.weights.size(); ++w)
      EMBER_CHECK(argShapes[f.inputs.size() + w] == f.weights[w].shape, Value, ctx, "weight '",
                  f.weights[w].name, "' has shape ", shape_str(f.weights[w].shape),
                  " in the weights section but the graph takes ",
                  shape_str(argShapes[f.inputs.size() + w]), ": the file is corrupt");
    it = cache_.emplace(key, std::move(compiled)).first;
    order_.push_back(key);
  }
  std::vector<Tensor> args = inputs;
  args.insert(args.end(), weights_.begin(), weights_.end());
  return it->second->run(args);
}

ExportedModel load_exported(const std::string& path) {
  return ExportedModel(compiler::readEmberFile(path, "ember.load_exported"));
}

} // namespace ember
