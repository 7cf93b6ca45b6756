// ember-outline-parallel-loops: large scf.parallel loops -> ember_parallel_for(fn, ctx, ...)
// with the loop body outlined into fn(ctx, begin, end).
#include "ember/compiler/Passes.h"

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace ember::compiler {
#define GEN_PASS_DEF_OUTLINEPARALLELLOOPS
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;

namespace {

constexpr const char* kRuntime = "ember_parallel_for";

std::optional<int64_t> constantIndex(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantIndexOp>()) return c.value();
  return std::nullopt;
}

struct OutlineParallelLoopsPass
    : ember::compiler::impl::OutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp op) {
      if (!op->getParentOfType<scf::ParallelOp>()) loops.push_back(op);
    });
    LLVMTypeConverter converter(&getContext());
    int counter = 0;
    for (scf::ParallelOp loop : loops) outline(module, loop, converter, counter);
  }

  // The trip count of every dimension: a constant, or -1 for a dynamic upper bound (a dynamic
  // batch) over [0, ub) in steps of 1; nothing for other bounds.
  static std::optional<SmallVector<int64_t>> tripCounts(scf::ParallelOp loop) {
    SmallVector<int64_t> counts;
    for (auto [lb, ub, step] :
         llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      auto l = constantIndex(lb), u = constantIndex(ub), s = constantIndex(step);
      if (!l || !s || *s <= 0) return std::nullopt;
      if (!u) {
        if (*l != 0 || *s != 1) return std::nullopt;
        counts.push_back(-1);
        continue;
      }
      counts.push_back(*u > *l ? (*u - *l + *s - 1) / *s : 0);
    }
    return counts;
  }

  void outline(ModuleOp module, scf::ParallelOp loop, LLVMTypeConverter& converter, int& counter) {
    if (loop.getNumReductions() != 0 || loop.getNumResults() != 0) return;
    auto counts = tripCounts(loop);
    if (!counts || counts->empty() || *constantIndex(loop.getStep()[0]) != 1) return;
    // The work of one first-dimension iteration: the other dimensions times the deepest nest
    // of constant-bound scf.for loops inside (a reduction's loop, say).
    // A dynamic dim's count is known at run time only: such loops are outlined whatever their
    // size (ember_parallel_for runs small ones on the calling thread).
    const bool dynamic = llvm::is_contained(*counts, -1);
    int64_t inner = 1;
    for (size_t d = 1; d < counts->size(); ++d) inner *= (*counts)[d] < 0 ? 1 : (*counts)[d];
    int64_t nested = 1;
    loop.getBody()->walk([&](scf::ForOp f) {
      int64_t work = 1;
      for (Operation* op = f; op && op != loop.getOperation(); op = op->getParentOp())
        if (auto g = dyn_cast<scf::ForOp>(op)) {
          auto l = constantIndex(g.getLowerBound()), u = constantIndex(g.getUpperBound()),
               st = constantIndex(g.getStep());
          if (l && u && st && *st > 0 && *u > *l) work *= (*u - *l + *st - 1) / *st;
        }
      nested = std::max(nested, work);
    });
    inner *= nested;
    const int64_t total = (*counts)[0] * inner;
    if (!dynamic && total < minWork) return;

    // What the body reads from outside: constants are cloned, the rest travels in ctx (with
    // the dynamic upper bounds of the inner dimensions).
    SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (size_t d = 1; d < counts->size(); ++d)
      if ((*counts)[d] < 0) used.insert(loop.getUpperBound()[d]);
    SmallVector<Value> packed, cloned;
    SmallVector<Type> fields;
    for (Value v : used) {
      Operation* def = v.getDefiningOp();
      if (def && def->hasTrait<OpTrait::ConstantLike>() && def->getNumResults() == 1) {
        cloned.push_back(v);
        continue;
      }
      Type t = v.getType();
      Type field;
      if (isa<MemRefType>(t) || isa<IndexType>(t)) field = converter.convertType(t);
      else if (LLVM::isCompatibleType(t)) field = t;
      if (!field) return; // a capture the ctx struct cannot carry: leave the loop serial
      packed.push_back(v);
      fields.push_back(field);
    }

    MLIRContext* ctx = &getContext();
    auto func = loop->getParentOfType<func::FuncOp>();
    if (!func) return;
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto ctxType = LLVM::LLVMStructType::getLiteral(ctx, fields);
    auto fnType = FunctionType::get(ctx, {ptrType, i64, i64}, {});
    Location loc = loop.getLoc();

    // The outlined function: unpack ctx, loop the first dimension over [begin, end).
    OpBuilder b(func);
    b.setInsertionPointAfter(func);
    // Named after the kernel the loop came from where its location says (a fusion's
    // "fused_mul_add_erf" or an op's "ember.sum"), else "par": @main_fused_mul_add_erf_0.
    std::string kernel = "par";
    loc->walk([&](Location l) {
      if (auto named = dyn_cast<NameLoc>(l)) {
        kernel.clear();
        for (char c : named.getName().strref()) kernel += std::isalnum((unsigned char)c) ? c : '_';
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    std::string name;
    do {
      name = (func.getName() + "_" + kernel + "_" + std::to_string(counter++)).str();
    } while (module.lookupSymbol(name));
    auto outlined = func::FuncOp::create(b, loc, name, fnType);
    outlined.setPrivate();
    Block* entry = outlined.addEntryBlock();
    b.setInsertionPointToStart(entry);
    IRMapping map;
    for (Value v : cloned) map.map(v, b.clone(*v.getDefiningOp())->getResult(0));
    Value ctxArg = entry->getArgument(0);
    for (size_t i = 0; i < packed.size(); ++i) {
      Value addr = LLVM::GEPOp::create(b, loc, ptrType, ctxType, ctxArg,
                                       ArrayRef<LLVM::GEPArg>{0, int32_t(i)});
      Value field = LLVM::LoadOp::create(b, loc, fields[i], addr);
      Type t = packed[i].getType();
      if (isa<IndexType>(t))
        field = arith::IndexCastOp::create(b, loc, t, field);
      else if (isa<MemRefType>(t))
        field = UnrealizedConversionCastOp::create(b, loc, t, field).getResult(0);
      map.map(packed[i], field);
    }
    SmallVector<Value> ivs;
    auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
    Value begin = arith::IndexCastOp::create(b, loc, b.getIndexType(), entry->getArgument(1));
    Value end = arith::IndexCastOp::create(b, loc, b.getIndexType(), entry->getArgument(2));
    for (size_t d = 0; d < counts->size(); ++d) {
      Value lb = d ? cst(*constantIndex(loop.getLowerBound()[d])) : begin;
      Value ub = !d ? end
                 : (*counts)[d] < 0 ? map.lookup(loop.getUpperBound()[d])
                                    : cst(*constantIndex(loop.getUpperBound()[d]));
      auto forOp = scf::ForOp::create(b, loc, lb, ub, cst(*constantIndex(loop.getStep()[d])));
      ivs.push_back(forOp.getInductionVar());
      b.setInsertionPointToStart(forOp.getBody());
    }
    for (auto [from, to] : llvm::zip(loop.getInductionVars(), ivs)) map.map(from, to);
    for (Operation& op : loop.getBody()->without_terminator()) b.clone(op, map);
    b.setInsertionPointToEnd(entry);
    func::ReturnOp::create(b, loc);

    // The call site: pack the captures, hand the first dimension to the thread pool.
    if (!module.lookupSymbol(kRuntime)) {
      OpBuilder mb(module.getBodyRegion());
      auto decl = func::FuncOp::create(
          mb, loc, kRuntime, FunctionType::get(ctx, {fnType, ptrType, i64, i64, i64}, {}));
      decl.setPrivate();
    }
    b.setInsertionPoint(loop);
    auto i64c = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, b.getI64IntegerAttr(v)).getResult();
    };
    Value ctxPtr;
    { // in the entry block, so a loop around the call does not grow the stack
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&func.getBody().front());
      ctxPtr = LLVM::AllocaOp::create(b, loc, ptrType, ctxType, i64c(1));
    }
    for (size_t i = 0; i < packed.size(); ++i) {
      Value v = packed[i];
      if (isa<IndexType>(v.getType()))
        v = arith::IndexCastOp::create(b, loc, i64, v);
      else if (isa<MemRefType>(v.getType()))
        v = UnrealizedConversionCastOp::create(b, loc, fields[i], v).getResult(0);
      Value addr = LLVM::GEPOp::create(b, loc, ptrType, ctxType, ctxPtr,
                                       ArrayRef<LLVM::GEPArg>{0, int32_t(i)});
      LLVM::StoreOp::create(b, loc, v, addr);
    }
    Value fn = func::ConstantOp::create(b, loc, fnType, SymbolRefAttr::get(outlined));
    const int64_t lb0 = *constantIndex(loop.getLowerBound()[0]);
    auto toI64 = [&](Value index) { return arith::IndexCastOp::create(b, loc, i64, index).getResult(); };
    Value ub0 = (*counts)[0] < 0 ? toI64(loop.getUpperBound()[0])
                                 : i64c(std::max(lb0, *constantIndex(loop.getUpperBound()[0])));
    Value work = i64c(inner);
    for (size_t d = 1; d < counts->size(); ++d)
      if ((*counts)[d] < 0)
        work = arith::MulIOp::create(b, loc, work, toI64(loop.getUpperBound()[d]));
    func::CallOp::create(b, loc, kRuntime, TypeRange{}, ValueRange{fn, ctxPtr, i64c(lb0), ub0, work});
    loop.erase();
  }
};

} // namespace
