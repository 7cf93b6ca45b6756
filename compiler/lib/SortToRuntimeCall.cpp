// ember-sort-to-runtime-call: memref-form ember.argsort -> a call of ember's CPU sort kernel
// (@ember_cpu_argsort_{f32,i64,i32,i1}).
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/IR/SymbolTable.h"

namespace ember::compiler {
#define GEN_PASS_DEF_SORTTORUNTIMECALL
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
namespace ed = ember::dialect;

namespace {

// The runtime entry for an element type (SortRuntime.cpp), or "" for none.
StringRef calleeFor(Type elem) {
  if (elem.isF32()) return "ember_cpu_argsort_f32";
  if (elem.isInteger(64)) return "ember_cpu_argsort_i64";
  if (elem.isInteger(32)) return "ember_cpu_argsort_i32";
  if (elem.isInteger(1)) return "ember_cpu_argsort_i1";
  return "";
}

struct SortToRuntimeCallPass : ember::compiler::impl::SortToRuntimeCallBase<SortToRuntimeCallPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ed::ArgSortOp> ops;
    module.walk([&](ed::ArgSortOp op) {
      if (op->getNumResults() == 0) ops.push_back(op);
    });
    OpBuilder b(module.getBodyRegion());
    for (ed::ArgSortOp op : ops) {
      Location loc = op.getLoc();
      auto in = cast<MemRefType>(op.getInput().getType());
      StringRef callee = calleeFor(in.getElementType());
      if (callee.empty()) {
        op.emitError() << "ember-sort-to-runtime-call: no sort kernel for " << in.getElementType();
        return signalPassFailure();
      }
      // Unranked memrefs: one entry serves every rank and layout (sizes and strides travel in
      // the descriptor).
      auto unranked = [&](Type elem) { return UnrankedMemRefType::get(elem, Attribute()); };
      SmallVector<Type> types{unranked(in.getElementType()), unranked(b.getI64Type()),
                              b.getI64Type(), b.getI64Type()};
      auto fn = dyn_cast_or_null<func::FuncOp>(SymbolTable::lookupSymbolIn(module, callee));
      if (!fn) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(module.getBody());
        fn = func::FuncOp::create(b, loc, callee, b.getFunctionType(types, {}));
        fn.setPrivate();
        fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
      }
      b.setInsertionPoint(op);
      SmallVector<Value> args{memref::CastOp::create(b, loc, types[0], op.getInput()),
                              memref::CastOp::create(b, loc, types[1], op.getOutput()),
                              arith::ConstantIntOp::create(b, loc, op.getDim(), 64),
                              arith::ConstantIntOp::create(b, loc, op.getDescending() ? 1 : 0, 64)};
      func::CallOp::create(b, loc, fn, args);
      op->erase();
    }
  }
};

} // namespace
