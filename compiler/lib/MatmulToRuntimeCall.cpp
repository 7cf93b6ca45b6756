// ember-matmul-to-runtime-call: f32 linalg.matmul / linalg.batch_matmul on memrefs -> calls of
// ember's GEMM (@ember_cpu_matmul_acc_f32 / @ember_cpu_batch_matmul_acc_f32). A matmul whose
// indexing maps read an operand transposed passes a memref.transpose view of it. A matmul right
// after a linalg.fill of +0.0 into its output (how a tensor-level matmul bufferizes) calls the
// overwriting entry (@ember_cpu_matmul_f32 / @ember_cpu_batch_matmul_f32) instead, and the fill
// goes: the GEMM stores its first K block rather than reading back zeros.
#include "ember/compiler/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

#include <array>
#include <optional>

namespace ember::compiler {
#define GEN_PASS_DEF_MATMULTORUNTIMECALL
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;

namespace {

bool isF32MemRef(Value v, int64_t rank) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == rank && type.getElementType().isF32();
}

// memref<?x...xf32, strided<[?, ...], offset: ?>>: what the runtime entry points take (the
// memref descriptor carries the actual layout).
MemRefType anyStrided(MLIRContext* ctx, int64_t rank) {
  SmallVector<int64_t> dyn(rank, ShapedType::kDynamic);
  return MemRefType::get(dyn, Float32Type::get(ctx),
                         StridedLayoutAttr::get(ctx, ShapedType::kDynamic, dyn));
}

func::FuncOp declare(ModuleOp module, StringRef name, int64_t rank) {
  if (auto f = dyn_cast_or_null<func::FuncOp>(SymbolTable::lookupSymbolIn(module, name))) return f;
  OpBuilder b(module.getBodyRegion());
  Type t = anyStrided(module.getContext(), rank);
  auto f = func::FuncOp::create(b, module.getLoc(), name, b.getFunctionType({t, t, t}, {}));
  f.setPrivate();
  f->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return f;
}

// Which of a linalg.matmul's operands it reads transposed: the default maps, or A as (k, m)
// and/or B as (n, k) through user-defined indexing maps (ember-lower-to-linalg folds 2-D
// transposes into them); nullopt for any other map.
std::optional<std::array<bool, 2>> transposedOperands(linalg::MatmulOp mm) {
  if (!mm.hasUserDefinedMaps()) return std::array<bool, 2>{false, false};
  SmallVector<AffineMap> maps = mm.getIndexingMapsArray();
  MLIRContext* ctx = mm.getContext();
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx), k = getAffineDimExpr(2, ctx);
  auto map = [&](AffineExpr r, AffineExpr c) { return AffineMap::get(3, 0, {r, c}, ctx); };
  if (maps.size() != 3 || maps[2] != map(m, n)) return std::nullopt;
  std::array<bool, 2> t;
  if (maps[0] == map(m, k)) t[0] = false;
  else if (maps[0] == map(k, m)) t[0] = true;
  else return std::nullopt;
  if (maps[1] == map(k, n)) t[1] = false;
  else if (maps[1] == map(n, k)) t[1] = true;
  else return std::nullopt;
  return t;
}

// The linalg.fill of +0.0 into `op`'s output buffer right before it, if any.
linalg::FillOp zeroFillBefore(Operation* op) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  if (!fill || !fill.hasPureBufferSemantics() || fill.getOutputs().size() != 1 ||
      fill.getOutputs()[0] != op->getOperands().back())
    return nullptr;
  FloatAttr value;
  if (!matchPattern(fill.getInputs()[0], m_Constant(&value)) || !value.getValue().isPosZero())
    return nullptr;
  return fill;
}

struct MatmulToRuntimeCallPass
    : ember::compiler::impl::MatmulToRuntimeCallBase<MatmulToRuntimeCallPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<Operation*, int64_t>> gemms; // (op, operand rank)
    module.walk([&](Operation* op) {
      auto isF32 = [&](int64_t rank) {
        return llvm::all_of(op->getOperands(), [&](Value v) { return isF32MemRef(v, rank); });
      };
      if (auto mm = dyn_cast<linalg::MatmulOp>(op)) {
        if (mm.hasPureBufferSemantics() && isF32(2) && mm.getCast() == linalg::TypeFn::cast_signed &&
            transposedOperands(mm))
          gemms.push_back({op, 2});
      } else if (auto bm = dyn_cast<linalg::BatchMatmulOp>(op)) {
        if (bm.hasPureBufferSemantics() && isF32(3) && !bm.hasUserDefinedMaps())
          gemms.push_back({op, 3});
      }
    });
    for (auto [op, rank] : gemms) {
      linalg::FillOp fill = zeroFillBefore(op);
      StringRef name = rank == 2 ? (fill ? "ember_cpu_matmul_f32" : "ember_cpu_matmul_acc_f32")
                                 : (fill ? "ember_cpu_batch_matmul_f32"
                                         : "ember_cpu_batch_matmul_acc_f32");
      func::FuncOp callee = declare(module, name, rank);
      if (fill) fill.erase();
      OpBuilder b(op);
      Type t = anyStrided(&getContext(), rank);
      std::array<bool, 2> transposed = {false, false};
      if (auto mm = dyn_cast<linalg::MatmulOp>(op)) transposed = *transposedOperands(mm);
      SmallVector<Value> args;
      for (auto [i, v] : llvm::enumerate(op->getOperands())) {
        // An operand the matmul reads transposed (its indexing map swaps the dims) becomes
        // a transposed strided view: the GEMM reads it in place.
        if (i < 2 && transposed[i]) {
          AffineMap swap = AffineMap::getPermutationMap(ArrayRef<unsigned>{1, 0}, &getContext());
          v = memref::TransposeOp::create(b, op->getLoc(), v, AffineMapAttr::get(swap));
        }
        args.push_back(memref::CastOp::create(b, op->getLoc(), t, v));
      }
      func::CallOp::create(b, op->getLoc(), callee, args);
      op->erase();
    }
  }
};

} // namespace
