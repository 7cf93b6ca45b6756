// ember-window-to-runtime-call: memref-form ember.im2col / ember.col2im, the convolution ops and
// the max pooling ops -> calls of ember's CPU kernels (@ember_cpu_im2col_f32,
// @ember_cpu_col2im_f32, @ember_cpu_conv2d_f32, @ember_cpu_conv2d_weight_grad_f32,
// @ember_cpu_conv2d_input_grad_f32, @ember_cpu_max_pool2d_f32, @ember_cpu_max_pool2d_grad_f32).
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/IR/SymbolTable.h"

namespace ember::compiler {
#define GEN_PASS_DEF_WINDOWTORUNTIMECALL
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
namespace ed = ember::dialect;

namespace {

// A memref of `rank` f32 with every size, stride and the offset dynamic: any layout casts to it.
MemRefType anyLayout(MLIRContext* ctx, int64_t rank) {
  SmallVector<int64_t> dyn(rank, ShapedType::kDynamic);
  return MemRefType::get(dyn, Float32Type::get(ctx),
                         StridedLayoutAttr::get(ctx, ShapedType::kDynamic, dyn));
}

func::FuncOp declare(OpBuilder& b, ModuleOp module, StringRef name, TypeRange args) {
  if (auto f = dyn_cast_or_null<func::FuncOp>(SymbolTable::lookupSymbolIn(module, name))) return f;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(module.getBody());
  auto f = func::FuncOp::create(b, module.getLoc(), name, b.getFunctionType(args, {}));
  f.setPrivate();
  f->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  return f;
}

// call @callee(input, output, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow [, pad_value]).
template <typename OpT>
void replaceWithCall(OpBuilder& b, ModuleOp module, OpT op, StringRef callee, int64_t inRank,
                     int64_t outRank, std::optional<float> padValue) {
  MLIRContext* ctx = b.getContext();
  Location loc = op.getLoc();
  SmallVector<Type> types{anyLayout(ctx, inRank), anyLayout(ctx, outRank)};
  types.append(10, b.getI64Type());
  if (padValue) types.push_back(b.getF32Type());
  func::FuncOp f = declare(b, module, callee, types);
  b.setInsertionPoint(op);
  SmallVector<Value> args{memref::CastOp::create(b, loc, types[0], op.getInput()),
                          memref::CastOp::create(b, loc, types[1], op.getOutput())};
  for (ArrayRef<int64_t> pair : {op.getKernel(), op.getStride(), op.getPadding(), op.getDilation(),
                                 op.getOutputSize()})
    for (int64_t v : pair) args.push_back(arith::ConstantIntOp::create(b, loc, v, 64));
  if (padValue)
    args.push_back(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(*padValue)));
  func::CallOp::create(b, loc, f, args);
  op->erase();
}

// call @callee(lhs, rhs, output, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow) for a two-input op.
template <typename OpT>
void replaceBinaryWithCall(OpBuilder& b, ModuleOp module, OpT op, StringRef callee) {
  MLIRContext* ctx = b.getContext();
  Location loc = op.getLoc();
  SmallVector<Type> types;
  for (Value v : {Value(op.getLhs()), Value(op.getRhs()), Value(op.getOutput())})
    types.push_back(anyLayout(ctx, cast<MemRefType>(v.getType()).getRank()));
  types.append(10, b.getI64Type());
  func::FuncOp f = declare(b, module, callee, types);
  b.setInsertionPoint(op);
  SmallVector<Value> args{memref::CastOp::create(b, loc, types[0], op.getLhs()),
                          memref::CastOp::create(b, loc, types[1], op.getRhs()),
                          memref::CastOp::create(b, loc, types[2], op.getOutput())};
  for (ArrayRef<int64_t> pair : {op.getKernel(), op.getStride(), op.getPadding(), op.getDilation(),
                                 op.getOutputSize()})
    for (int64_t v : pair) args.push_back(arith::ConstantIntOp::create(b, loc, v, 64));
  func::CallOp::create(b, loc, f, args);
  op->erase();
}

struct WindowToRuntimeCallPass
    : ember::compiler::impl::WindowToRuntimeCallBase<WindowToRuntimeCallPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation*> ops;
    module.walk([&](Operation* op) {
      if (isa<ed::Im2ColOp, ed::Col2ImOp, ed::Conv2dOp, ed::Conv2dWeightGradOp,
              ed::Conv2dInputGradOp, ed::MaxPool2dOp, ed::MaxPool2dGradOp>(op) &&
          op->getNumResults() == 0)
        ops.push_back(op);
    });
    OpBuilder b(module.getBodyRegion());
    for (Operation* op : ops) {
      if (auto c = dyn_cast<ed::Conv2dOp>(op))
        replaceBinaryWithCall(b, module, c, "ember_cpu_conv2d_f32");
      else if (auto c = dyn_cast<ed::Conv2dWeightGradOp>(op))
        replaceBinaryWithCall(b, module, c, "ember_cpu_conv2d_weight_grad_f32");
      else if (auto c = dyn_cast<ed::Conv2dInputGradOp>(op))
        replaceBinaryWithCall(b, module, c, "ember_cpu_conv2d_input_grad_f32");
      else if (auto p = dyn_cast<ed::MaxPool2dGradOp>(op))
        replaceBinaryWithCall(b, module, p, "ember_cpu_max_pool2d_grad_f32");
      else if (auto p = dyn_cast<ed::MaxPool2dOp>(op))
        replaceWithCall(b, module, p, "ember_cpu_max_pool2d_f32", 4, 4, std::nullopt);
      else if (auto im = dyn_cast<ed::Im2ColOp>(op))
        replaceWithCall(b, module, im, "ember_cpu_im2col_f32", 4, 2,
                        im.getPadValue().convertToFloat());
      else
        replaceWithCall(b, module, cast<ed::Col2ImOp>(op), "ember_cpu_col2im_f32", 2, 4,
                        std::nullopt);
    }
  }
};

} // namespace
