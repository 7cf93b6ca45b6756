// ember-matmul-to-runtime-call: f32 linalg.matmul on memrefs -> call @ember_cpu_matmul_acc_f32.
#include "ember/compiler/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace ember::compiler {
#define GEN_PASS_DEF_MATMULTORUNTIMECALL
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;

namespace {

constexpr const char* kCallee = "ember_cpu_matmul_acc_f32";

bool isF32Matrix(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == 2 && type.getElementType().isF32();
}

struct MatmulToRuntimeCallPass
    : ember::compiler::impl::MatmulToRuntimeCallBase<MatmulToRuntimeCallPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::MatmulOp> matmuls;
    module.walk([&](linalg::MatmulOp op) {
      if (op.hasPureBufferSemantics() && llvm::all_of(op->getOperands(), isF32Matrix) &&
          op.getCast() == linalg::TypeFn::cast_signed)
        matmuls.push_back(op);
    });
    if (matmuls.empty()) return;

    OpBuilder b(module.getBodyRegion());
    auto dyn = MemRefType::get({ShapedType::kDynamic, ShapedType::kDynamic}, b.getF32Type());
    auto callee = dyn_cast_or_null<func::FuncOp>(SymbolTable::lookupSymbolIn(module, kCallee));
    if (!callee) {
      b.setInsertionPointToStart(module.getBody());
      callee = func::FuncOp::create(b, module.getLoc(), kCallee,
                                    b.getFunctionType({dyn, dyn, dyn}, {}));
      callee.setPrivate();
      callee->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    }
    for (linalg::MatmulOp op : matmuls) {
      // The kernel takes row-major buffers: strided layouts keep the generic lowering.
      if (!llvm::all_of(op->getOperands(), [](Value v) {
            return cast<MemRefType>(v.getType()).getLayout().isIdentity();
          }))
        continue;
      b.setInsertionPoint(op);
      SmallVector<Value> args;
      for (Value v : op->getOperands())
        args.push_back(memref::CastOp::create(b, op.getLoc(), dyn, v));
      func::CallOp::create(b, op.getLoc(), callee, args);
      op->erase();
    }
  }
};

} // namespace
