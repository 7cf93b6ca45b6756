// Graph -> ember dialect (keyed by primitive: the frontend sees no MLIR), and the compiled
// graph that runs it through the JIT.
#include "ember/compiler/Compile.h"

#include "ember/compiler/DynamicShapes.h"
#include "ember/compiler/Elementwise.h"
#include "ember/compiler/Registration.h"
#include "ember/dialects/EmberDialect.h"
#include "ember/runtime/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

#include <limits>
#include <unordered_map>

namespace ember::compiler {
namespace {

namespace ed = ember::dialect;

// The element type of a dtype the compiler handles (isCompiledDType).
mlir::Type elementTypeOf(mlir::OpBuilder& b, DType d) {
  switch (d) {
  case DType::Bool: return b.getI1Type();
  case DType::Int64: return b.getI64Type();
  case DType::Int32: return b.getI32Type();
  default: return b.getF32Type();
  }
}

mlir::RankedTensorType tensorTypeOf(mlir::OpBuilder& b, const Shape& s, DType d = DType::Float32) {
  return mlir::RankedTensorType::get(s, elementTypeOf(b, d));
}

std::string mlirText(mlir::Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

bool isCompiledDType(DType d) {
  return d == DType::Float32 || d == DType::Int64 || d == DType::Int32 || d == DType::Bool;
}

// `v` reshaped to `shape` (ember.reshape; `v` itself when it has that shape already).
mlir::Value reshapeTo(mlir::OpBuilder& b, mlir::Location loc, mlir::Value v, const Shape& shape) {
  auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
  if (t.getShape() == llvm::ArrayRef<int64_t>(shape)) return v;
  return ed::ReshapeOp::create(b, loc, mlir::RankedTensorType::get(shape, t.getElementType()), v);
}

// The dialect op for one node. Elementwise records map by name; the rest are written out.
// `type` is the result's IR type (dynamic dims included).
mlir::Value emitNode(mlir::OpBuilder& b, mlir::Location loc, const Node& n,
                     llvm::ArrayRef<mlir::Value> in, mlir::RankedTensorType type) {
  // gather / scatter / scatter_add on 0-d tensors (PyTorch treats them as one element): the
  // 0-d operands as [1], the result back to 0-d.
  const bool gatherLike = n.prim == Prim::Gather || n.prim == Prim::Scatter ||
                          n.prim == Prim::ScatterAdd;
  if (gatherLike && llvm::any_of(in, [](mlir::Value v) {
        return mlir::cast<mlir::RankedTensorType>(v.getType()).getRank() == 0;
      })) {
    std::vector<mlir::Value> ones;
    for (mlir::Value v : in)
      ones.push_back(mlir::cast<mlir::RankedTensorType>(v.getType()).getRank() ? v
                                                                              : reshapeTo(b, loc, v, {1}));
    auto oneType = type.getRank() ? type : mlir::RankedTensorType::get({1}, type.getElementType());
    return reshapeTo(b, loc, emitNode(b, loc, n, ones, oneType), Shape(type.getShape()));
  }
  switch (n.prim) {
#define EMBER_EMIT_1(Name) ed::Name##Op::create(b, loc, in[0])
#define EMBER_EMIT_2(Name) ed::Name##Op::create(b, loc, in[0], in[1])
#define EMBER_ELEMENTWISE(Name, name, arity, ...) \
  case Prim::Name:                                \
    return EMBER_EMIT_##arity(Name);
#include "ember/ops/Elementwise.def"
#undef EMBER_ELEMENTWISE
#undef EMBER_EMIT_1
#undef EMBER_EMIT_2
  case Prim::MatMul:
    return ed::MatMulOp::create(b, loc, in[0], in[1]);
  case Prim::Sum:
    return ed::SumOp::create(b, loc, type, in[0], b.getDenseI64ArrayAttr(n.attrs.ints),
                             b.getBoolAttr(n.attrs.keepdim));
  case Prim::Amax:
    return ed::AmaxOp::create(b, loc, type, in[0], b.getDenseI64ArrayAttr(n.attrs.ints),
                              b.getBoolAttr(n.attrs.keepdim));
  case Prim::Amin:
    return ed::AminOp::create(b, loc, type, in[0], b.getDenseI64ArrayAttr(n.attrs.ints),
                              b.getBoolAttr(n.attrs.keepdim));
  case Prim::Prod:
    return ed::ProdOp::create(b, loc, type, in[0], b.getDenseI64ArrayAttr(n.attrs.ints),
                              b.getBoolAttr(n.attrs.keepdim));
  case Prim::CumSum:
  case Prim::CumProd: {
    // {dim, reverse} (cumprod: {dim}); the operand is already in the result's dtype.
    auto dim = b.getI64IntegerAttr(n.attrs.ints[0]);
    auto reverse = b.getBoolAttr(n.attrs.ints.size() > 1 && n.attrs.ints[1]);
    if (n.prim == Prim::CumSum) return ed::CumSumOp::create(b, loc, type, in[0], dim, reverse);
    return ed::CumProdOp::create(b, loc, type, in[0], dim, reverse);
  }
  case Prim::Unfold: {
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    const Shape& a = n.attrs.ints; // {dim, size, step}
    return ed::UnfoldOp::create(b, loc, type, in[0], i64(a[0]), i64(a[1]), i64(a[2]));
  }
  case Prim::ArgSort: {
    // {dim, descending[, k]}: with k (topk) the result keeps the first k of the order, which
    // needs a static length along dim.
    const int64_t dim = n.attrs.ints[0];
    auto t = mlir::cast<mlir::RankedTensorType>(in[0].getType());
    EMBER_CHECK(n.attrs.ints.size() < 3 || t.getRank() == 0 || !t.isDynamicDim(dim),
                NotImplemented, "ember.compile", "ember.argsort keeping the first k (topk) along a "
                "dimension of dynamic size does not compile yet (dynamic=True); sort along another "
                "dim, or compile with static shapes");
    return ed::ArgSortOp::create(b, loc, type, in[0], mlir::Value(), b.getI64IntegerAttr(dim),
                                 b.getBoolAttr(n.attrs.ints.size() > 1 && n.attrs.ints[1]))
        ->getResult(0);
  }
  case Prim::Permute:
    return ed::PermuteOp::create(b, loc, type, in[0], b.getDenseI64ArrayAttr(n.attrs.ints));
  case Prim::Slice:
  case Prim::SliceBackward: {
    const Shape& s = n.attrs.ints;
    auto i64 = [&](int64_t v) { return b.getI64IntegerAttr(v); };
    if (n.prim == Prim::Slice)
      return ed::SliceOp::create(b, loc, type, in[0], i64(s[0]), i64(s[1]), i64(s[2]), i64(s[3]));
    return ed::SliceBackwardOp::create(b, loc, type, in[0], i64(s[0]), i64(s[1]), i64(s[2]), i64(s[3]));
  }
  case Prim::Cat:
    return ed::CatOp::create(b, loc, type, in, b.getI64IntegerAttr(n.attrs.ints[0]));
  case Prim::BatchMatMul:
    return ed::BatchMatMulOp::create(b, loc, type, in[0], in[1]);
  case Prim::Where:
    return ed::WhereOp::create(b, loc, type, in[0], in[1], in[2]);
  default:
    break;
  case Prim::Reshape:
    return ed::ReshapeOp::create(b, loc, type, in[0]);
  case Prim::Transpose: {
    int64_t d0 = n.attrs.ints[0], d1 = n.attrs.ints[1];
    return ed::TransposeOp::create(b, loc, type, in[0], b.getI64IntegerAttr(d0),
                                   b.getI64IntegerAttr(d1));
  }
  case Prim::Expand:
    return ed::ExpandOp::create(b, loc, type, in[0]);
  case Prim::Im2Col:
  case Prim::Col2Im: {
    // {kh, kw, sh, sw, pad top, pad left, dh, dw, oh, ow, H, W[, fill]}: H and W are the
    // image's shape in the IR; a fill flag of 1 reads -inf outside the image (max pooling).
    const Shape& a = n.attrs.ints;
    auto pair = [&](int i) { return b.getDenseI64ArrayAttr({a[i], a[i + 1]}); };
    if (n.prim == Prim::Col2Im)
      return ed::Col2ImOp::create(b, loc, type, in[0], mlir::Value(), pair(0), pair(2), pair(4),
                                  pair(6), pair(8))
          ->getResult(0);
    const bool lowest = a.size() == 13 && a[12] == 1;
    const float fill = lowest ? -std::numeric_limits<float>::infinity() : 0.0f;
    return ed::Im2ColOp::create(b, loc, type, in[0], mlir::Value(), pair(0), pair(2), pair(4),
                                pair(6), pair(8), b.getF32FloatAttr(fill))
        ->getResult(0);
  }
  case Prim::Cast: // clone / contiguous / .to(dtype): the value itself when the IR type agrees
    if (in[0].getType() == type) return in[0];
    return ed::CastOp::create(b, loc, type, in[0]);
  case Prim::IndexSelect:
    return ed::IndexSelectOp::create(b, loc, type, in[0], in[1],
                                     b.getI64IntegerAttr(n.attrs.ints[0]));
  case Prim::IndexAdd:
    return ed::IndexAddOp::create(b, loc, type, in[0], in[1], b.getI64IntegerAttr(n.attrs.ints[0]),
                                  b.getI64IntegerAttr(n.attrs.ints[1]));
  case Prim::Gather:
    return ed::GatherOp::create(b, loc, type, in[0], in[1], b.getI64IntegerAttr(n.attrs.ints[0]));
  case Prim::Scatter:
    return ed::ScatterOp::create(b, loc, type, in[0], in[1], in[2],
                                 b.getI64IntegerAttr(n.attrs.ints[0]));
  case Prim::ScatterAdd:
    return ed::ScatterAddOp::create(b, loc, type, in[0], in[1], in[2],
                                    b.getI64IntegerAttr(n.attrs.ints[0]));
  case Prim::ArgMax:
  case Prim::ArgMin: {
    // One dimension in the IR: the whole-tensor form (and a 0-d input) reduces a 1-D view.
    const Tensor& a = n.inputs[0];
    mlir::Value x = in[0];
    int64_t dim = n.attrs.ints.empty() ? 0 : n.attrs.ints[0];
    bool keepdim = n.attrs.keepdim;
    if (n.attrs.ints.empty() || a.dim() == 0) {
      EMBER_CHECK(mlir::cast<mlir::RankedTensorType>(x.getType()).hasStaticShape(), NotImplemented,
                  "ember.compile", "ember.", prim_name(n.prim), " over a whole tensor of dynamic "
                  "size does not compile yet (dynamic=True); give it a dim, or compile with "
                  "static shapes");
      x = reshapeTo(b, loc, x, {a.numel()});
      dim = 0;
      keepdim = false;
    }
    auto t = mlir::cast<mlir::RankedTensorType>(x.getType());
    Shape out;
    for (int64_t d = 0; d < t.getRank(); ++d)
      if (d != dim) out.push_back(t.getDimSize(d));
      else if (keepdim) out.push_back(1);
    auto rt = tensorTypeOf(b, out, DType::Int64);
    auto dimAttr = b.getI64IntegerAttr(dim);
    mlir::Value r = n.prim == Prim::ArgMax
                        ? mlir::Value(ed::ArgMaxOp::create(b, loc, rt, x, dimAttr, b.getBoolAttr(keepdim)))
                        : mlir::Value(ed::ArgMinOp::create(b, loc, rt, x, dimAttr, b.getBoolAttr(keepdim)));
    if (r.getType() == type) return r;
    return ed::ReshapeOp::create(b, loc, type, r);
  }
  }
  fail(ErrorKind::NotImplemented, "ember.compile", "the compiler cannot lower '", prim_name(n.prim),
       "' yet; run this function eagerly (docs/compiler.md lists what compiles)");
}

mlir::DialectRegistry& registry() {
  static mlir::DialectRegistry* r = [] {
    auto* reg = new mlir::DialectRegistry();
    registerDialects(*reg);
    return reg;
  }();
  return *r;
}

} // namespace

namespace {
void requireSupported(DType d, const std::string& what, size_t index) {
  EMBER_CHECK(isCompiledDType(d), NotImplemented, "ember.compile", what, " ", index, " is ",
              dtype_name(d), "; the compiler handles float32, int64, int32 and bool tensors so far "
              "(convert with .to(ember.float32) or .to(ember.int64), or run it eagerly; "
              "docs/compiler.md lists what compiles)");
}

// Primitives that compile on float32 values only.
bool floatOnly(Prim p) {
  return p == Prim::MatMul || p == Prim::BatchMatMul || p == Prim::Im2Col || p == Prim::Col2Im;
}

// How the IR sees a tensor's dtype: floating values (and wrapped Python floats) as f32, narrow
// integers (uint8, int8, int16: only constants get here) as i32, which holds their values.
DType irDType(const Tensor& t) {
  const DType d = t.dtype();
  if (is_floating(d)) return DType::Float32;
  if (d == DType::UInt8 || d == DType::Int8 || d == DType::Int16) return DType::Int32;
  return d;
}

// The dtype a node's operand `i` must have in the IR (the importer casts to it): the compute
// dtype for elementwise primitives, bool for where's condition, int64 for indices, the
// operand's own for casts and arg-reductions, the node's result dtype otherwise (so sum of
// bools counts in int64).
DType operandDType(const Node& n, size_t i) {
  switch (n.prim) {
  case Prim::Where: return i == 0 ? DType::Bool : n.dtype;
  case Prim::Cast:
  case Prim::ArgMax:
  case Prim::ArgMin:
  case Prim::ArgSort: return irDType(n.inputs[i]);
  case Prim::IndexSelect:
  case Prim::IndexAdd:
  case Prim::Gather:
  case Prim::Scatter:
  case Prim::ScatterAdd: return i == 1 ? DType::Int64 : n.dtype;
  default: break;
  }
  if (prim_is_elementwise(n.prim)) return compute_dtype(n.prim, n.inputs);
  return n.dtype;
}
} // namespace

std::string graphToMLIR(const Graph& g, const std::string& name, const SymbolicDims* dims) {
  for (size_t i = 0; i < g.inputs.size(); ++i) requireSupported(g.inputs[i].dtype(), "input", i);
  for (size_t i = 0; i < g.steps.size(); ++i) {
    const Node& n = *g.steps[i].node;
    const std::string what = std::string("the result of ember.") + prim_name(n.prim) + ", node";
    requireSupported(n.dtype, what, i);
    EMBER_CHECK(!floatOnly(n.prim) || n.dtype == DType::Float32, NotImplemented, "ember.compile",
                "ember.", prim_name(n.prim), " on ", dtype_name(n.dtype), " does not compile yet "
                "(float32 only); convert its operands with .to(ember.float32)");
  }
  for (size_t i = 0; i < g.outputs.size(); ++i) requireSupported(g.outputs[i].dtype(), "output", i);
  for (size_t i = 0; i < g.constants.size(); ++i)
    requireSupported(irDType(g.constants[i]), "constant", i);
  mlir::MLIRContext ctx(registry());
  // (math for canEmitScalar's trial build of the records' expressions.)
  ctx.loadDialect<ed::EmberDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect>();
  mlir::OpBuilder b(&ctx);
  mlir::Location unknown = b.getUnknownLoc();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(unknown);

  // A value's sizes: one formula per dim (base, coefficient per symbol), or null when static.
  auto sizesOf = [&](const Tensor& t) -> const std::vector<std::vector<int64_t>>* {
    if (!dims) return nullptr;
    auto it = dims->sizes.find(t.unsafe_impl());
    return it == dims->sizes.end() ? nullptr : &it->second;
  };
  auto isDynamic = [](const std::vector<int64_t>& f) {
    for (size_t j = 1; j < f.size(); ++j)
      if (f[j]) return true;
    return false;
  };
  auto typeOf = [&](const Tensor& t, DType d) {
    Shape shape = t.shape();
    if (const auto* f = sizesOf(t))
      for (size_t i = 0; i < shape.size(); ++i)
        if (isDynamic((*f)[i])) shape[i] = mlir::ShapedType::kDynamic;
    return tensorTypeOf(b, shape, d);
  };
  // Every dim's formula, concatenated (static dims: the size, coefficients 0).
  auto formulas = [&](const std::vector<Tensor>& ts) {
    std::vector<int64_t> out;
    for (const Tensor& t : ts) {
      const auto* f = sizesOf(t);
      for (size_t i = 0; i < t.shape().size(); ++i) {
        if (f) out.insert(out.end(), (*f)[i].begin(), (*f)[i].end());
        else {
          out.push_back(t.shape()[i]);
          out.insert(out.end(), dims->sources.size(), 0);
        }
      }
    }
    return out;
  };

  std::vector<mlir::Type> inTypes, outTypes;
  for (const Tensor& t : g.inputs) inTypes.push_back(typeOf(t, t.dtype()));
  for (const Tensor& t : g.outputs) outTypes.push_back(typeOf(t, t.dtype()));
  b.setInsertionPointToEnd(module->getBody());
  auto fn = mlir::func::FuncOp::create(b, unknown, name, b.getFunctionType(inTypes, outTypes));
  if (dims) {
    std::vector<int64_t> sources;
    for (auto [input, dim] : dims->sources) {
      sources.push_back(input);
      sources.push_back(dim);
    }
    fn->setAttr(kSymbolsAttr, b.getDenseI64ArrayAttr(sources));
    fn->setAttr("ember.arg_sizes", b.getDenseI64ArrayAttr(formulas(g.inputs)));
    fn->setAttr(kResultSizesAttr, b.getDenseI64ArrayAttr(formulas(g.outputs)));
  }
  mlir::Block* entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);

  std::unordered_map<TensorImpl*, mlir::Value> values;
  for (size_t i = 0; i < g.inputs.size(); ++i)
    values[g.inputs[i].unsafe_impl()] = entry->getArgument(i);
  // Constants keep their kind: floats (wrapped Python floats included) as f32, integers and
  // bools as themselves; operands are cast to their node's dtype below.
  for (const Tensor& constant : g.constants) {
    // A constant whose size follows a symbol is a fill (compileSymbolic checks): its value,
    // expanded to the dynamic shape.
    const auto* fill = sizesOf(constant);
    std::optional<int64_t> scalarInput;
    if (dims)
      if (auto it = dims->scalarInputs.find(constant.unsafe_impl()); it != dims->scalarInputs.end())
        scalarInput = it->second;
    const Tensor c = fill || scalarInput ? reshape(slice(reshape(constant, {-1}), 0, 0, 1), {}).contiguous()
                                         : constant;
    const DType d = irDType(c);
    auto type = tensorTypeOf(b, c.shape(), d);
    auto expanded = [&](mlir::Value v) -> mlir::Value {
      if (!constant.dim()) return v;
      auto expand = ed::ExpandOp::create(b, unknown, typeOf(constant, d), v);
      if (fill) {
        std::vector<int64_t> flat;
        for (const auto& f : *fill) flat.insert(flat.end(), f.begin(), f.end());
        expand->setAttr(kDimSizesAttr, b.getDenseI64ArrayAttr(flat));
      }
      return expand;
    };
    if (scalarInput) {
      EMBER_CHECK(d == DType::Float32, NotImplemented, "ember.compile", "a ", dtype_name(d),
                  " constant that follows the batch size does not compile yet");
      values[constant.unsafe_impl()] = expanded(entry->getArgument(unsigned(*scalarInput)));
      continue;
    }
    mlir::DenseElementsAttr attr;
    if (d == DType::Float32) {
      std::vector<float> data = c.to_vector();
      attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(data));
    } else if (d == DType::Bool) {
      Tensor dense = c.contiguous();
      llvm::SmallVector<bool> bits(dense.data<bool>(), dense.data<bool>() + dense.numel());
      attr = mlir::DenseElementsAttr::get(type, llvm::ArrayRef<bool>(bits));
    } else if (d == DType::Int32) {
      Tensor dense = c.to(DType::Int32).contiguous();
      attr = mlir::DenseElementsAttr::get(
          type, llvm::ArrayRef<int32_t>(dense.data<int32_t>(), size_t(dense.numel())));
    } else {
      Tensor dense = c.contiguous();
      attr = mlir::DenseElementsAttr::get(
          type, llvm::ArrayRef<int64_t>(dense.data<int64_t>(), size_t(dense.numel())));
    }
    mlir::Value v = mlir::arith::ConstantOp::create(b, unknown, attr);
    values[constant.unsafe_impl()] = fill ? expanded(v) : v;
  }
  for (const Graph::Step& s : g.steps) {
    std::vector<mlir::Value> in;
    for (size_t i = 0; i < s.node->inputs.size(); ++i) {
      const Tensor& t = s.node->inputs[i];
      mlir::Value v = values.at(t.unsafe_impl());
      const DType want = operandDType(*s.node, i);
      requireSupported(want, "an operand of node", i);
      auto vt = mlir::cast<mlir::RankedTensorType>(v.getType());
      auto wt = tensorTypeOf(b, vt.getShape(), want);
      if (vt != wt) v = ed::CastOp::create(b, unknown, wt, v);
      in.push_back(v);
    }
    mlir::Location loc = mlir::NameLoc::get(b.getStringAttr(std::string("ember.") + prim_name(s.node->prim)));
    const mlir::RankedTensorType type = typeOf(s.output, s.node->dtype);
    mlir::Value out = emitNode(b, loc, *s.node, in, type);
    if (const auto* f = sizesOf(s.output)) {
      // The op's type (inferred from its operands for most ops) must be the fitted one, and an
      // op with dynamic dims carries their formulas for the lowering (DynamicShapes.h).
      EMBER_CHECK(out.getType() == type, Runtime, "ember.compile", "ember.",
                  prim_name(s.node->prim), " has type ", mlirText(out.getType()), " in the IR but ",
                  mlirText(type), " was fitted from the traces at several batch sizes");
      mlir::Operation* def = out.getDefiningOp();
      if (def && !type.hasStaticShape()) {
        std::vector<int64_t> flat;
        for (const auto& dimFormula : *f) flat.insert(flat.end(), dimFormula.begin(), dimFormula.end());
        def->setAttr(kDimSizesAttr, b.getDenseI64ArrayAttr(flat));
      }
    }
    // An elementwise record whose expression has no form for these operands (sqrt of int64,
    // bool + bool) is refused here, naming the op and the dtype.
    if (mlir::Operation* def = out.getDefiningOp(); def && isElementwise(def))
      EMBER_CHECK(canEmitScalar(def), NotImplemented, "ember.compile", "ember.",
                  prim_name(s.node->prim), " on ", dtype_name(compute_dtype(s.node->prim, s.node->inputs)),
                  " does not compile yet (its expression has no integer/bool form); convert the "
                  "operands with .to(ember.float32) or run it eagerly");
    values[s.output.unsafe_impl()] = out;
  }
  std::vector<mlir::Value> results;
  for (const Tensor& t : g.outputs) results.push_back(values.at(t.unsafe_impl()));
  mlir::func::ReturnOp::create(b, unknown, results);
  EMBER_CHECK(mlir::succeeded(mlir::verify(*module)), Runtime, "compiler.import",
              "the imported graph does not verify");

  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

CompiledGraph::CompiledGraph(JitModule jit, std::string ir, std::string name,
                             std::vector<Shape> in, std::vector<Shape> out)
    : jit_(std::move(jit)), ir_(std::move(ir)), name_(std::move(name)), inputs_(std::move(in)),
      outputs_(std::move(out)), inputTypes_(jit_.inputDTypes(name_)),
      outputTypes_(jit_.outputDTypes(name_)), times_(jit_.times()) {}

double CompiledGraph::scalarValue(ScalarForm form, int64_t f) {
  switch (form) {
  case ScalarForm::Reciprocal: return double(1.0f / float(f));
  case ScalarForm::OnePlusReciprocal: return double(float(1.0 + 1.0 / double(f)));
  default: return double(f);
  }
}

std::string graphText(const Graph& g) {
  std::unordered_map<const TensorImpl*, std::string> names;
  auto name = [&](const Tensor& t) {
    auto it = names.find(t.unsafe_impl());
    return it != names.end() ? it->second : std::string("?");
  };
  std::string out;
  auto describe = [](const Tensor& t) { return shape_str(t.shape()) + " " + dtype_name(t.dtype()); };
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    names[g.inputs[i].unsafe_impl()] = "%in" + std::to_string(i);
    out += "%in" + std::to_string(i) + " : input " + describe(g.inputs[i]) + "\n";
  }
  for (size_t i = 0; i < g.constants.size(); ++i) {
    names[g.constants[i].unsafe_impl()] = "%const" + std::to_string(i);
    out += "%const" + std::to_string(i) + " : constant " + describe(g.constants[i]) + "\n";
  }
  for (size_t i = 0; i < g.steps.size(); ++i) {
    const Graph::Step& s = g.steps[i];
    std::string line = "%" + std::to_string(i) + " = " + prim_name(s.node->prim) + "(";
    for (size_t k = 0; k < s.node->inputs.size(); ++k)
      line += (k ? ", " : "") + name(s.node->inputs[k]);
    line += ")";
    if (!s.node->attrs.ints.empty()) line += " ints=" + shape_str(s.node->attrs.ints);
    names[s.output.unsafe_impl()] = "%" + std::to_string(i);
    out += line + " : " + describe(s.output) + "\n";
  }
  out += "return";
  for (size_t i = 0; i < g.outputs.size(); ++i) out += (i ? ", " : " ") + name(g.outputs[i]);
  return out + "\n";
}

namespace {
void writeDumpFile(const std::string& dir, const std::string& file, const std::string& text) {
  std::error_code ec;
  llvm::sys::fs::create_directories(dir);
  llvm::raw_fd_ostream os(dir + "/" + file, ec);
  EMBER_CHECK(!ec, Runtime, "EMBER_DUMP", "cannot write ", dir, "/", file, ": ", ec.message());
  os << text;
}
} // namespace

CompiledGraph CompiledGraph::compile(const Graph& g, const std::string& dumpDir) {
  auto start = std::chrono::steady_clock::now();
  std::string ir = graphToMLIR(g, "main");
  const double importSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!dumpDir.empty()) {
    writeDumpFile(dumpDir, "graph.txt", graphText(g));
    writeDumpFile(dumpDir, "ember.mlir", ir);
  }
  JitModule jit = JitModule::compile(ir, dumpDir);
  std::vector<Shape> in = jit.inputShapes("main"), out = jit.outputShapes("main");
  CompiledGraph c(std::move(jit), ir, "main", std::move(in), std::move(out));
  c.times_.import = importSeconds;
  return c;
}

CompiledGraph CompiledGraph::fromMLIR(const std::string& ir, const std::string& name) {
  JitModule jit = JitModule::compile(ir);
  std::vector<Shape> in = jit.inputShapes(name), out = jit.outputShapes(name);
  return CompiledGraph(std::move(jit), ir, name, std::move(in), std::move(out));
}

std::vector<Tensor> CompiledGraph::run(const std::vector<Tensor>& given) {
  const size_t taken = inputs_.size() - scalars_.size();
  EMBER_CHECK(given.size() == taken, Value, "ember.compile", "the compiled function takes ", taken,
              " tensor inputs, got ", given.size());
  std::vector<Tensor> inputs = given;
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  if (isDynamic()) {
    // The graph's constants that follow the symbols (a mean's count), for these sizes.
    std::vector<int64_t> symbols;
    for (auto [input, dim] : sources_) {
      EMBER_CHECK(dim < int64_t(shapes[size_t(input)].size()), Value, "ember.compile", "input ",
                  input, " has shape ", shape_str(shapes[size_t(input)]), " but the function was "
                  "compiled for rank ", inputs_[size_t(input)].size());
      symbols.push_back(shapes[size_t(input)][size_t(dim)]);
    }
    for (const SymbolicScalar& s : scalars_) {
      int64_t v = s.formula[0];
      for (size_t j = 0; j < symbols.size(); ++j) v += s.formula[j + 1] * symbols[j];
      inputs.push_back(full({}, scalarValue(s.form, v), DType::Float32));
      shapes.push_back({});
    }
  }
  // Dynamic dims resolved (and every input shape checked against the signature).
  const std::vector<Shape> outShapes = isDynamic() ? jit_.outputShapes(name_, shapes) : outputs_;
  std::vector<Tensor> keep;
  std::vector<Buffer> in, out;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(isDynamic() || inputs[i].shape() == inputs_[i], Value, "ember.compile", "input ", i,
                " has shape ", shape_str(inputs[i].shape()), " but the function was compiled for ",
                shape_str(inputs_[i]));
    EMBER_CHECK(inputs[i].dtype() == inputTypes_[i], Type, "ember.compile", "input ", i, " is ",
                dtype_name(inputs[i].dtype()), " but the function was compiled for ",
                dtype_name(inputTypes_[i]));
    Tensor c = inputs[i].is_contiguous() ? inputs[i] : inputs[i].contiguous();
    keep.push_back(c);
    in.push_back({c.raw_data(), c.shape(), c.strides(), c.dtype()});
  }
  std::vector<Tensor> results;
  for (size_t i = 0; i < outShapes.size(); ++i) {
    results.push_back(empty(outShapes[i], outputTypes_[i]));
    out.push_back({results.back().raw_data(), outShapes[i], results.back().strides(), outputTypes_[i]});
  }
  jit_.run(name_, in, out);
  return results;
}

} // namespace ember::compiler
