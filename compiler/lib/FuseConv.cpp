// ember-fuse-conv: im2col + matmul chains (a traced convolution, its weight gradient and its
// input gradient) -> ember.conv2d / ember.conv2d_weight_grad / ember.conv2d_input_grad.
#include "WindowFusion.h"
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "llvm/ADT/DenseMap.h"

namespace ember::compiler {
#define GEN_PASS_DEF_FUSECONV
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
using ember::compiler::eraseDeadOps;
using ember::compiler::isStaticF32;
using ember::compiler::withWindowOf;
namespace ed = ember::dialect;

namespace {

RankedTensorType tensorOf(ArrayRef<int64_t> shape, Type element) {
  return RankedTensorType::get(shape, element);
}

// The im2col (zeros outside the image, static f32) that produced `v`, else null.
ed::Im2ColOp convColumns(Value v) {
  auto im = v.getDefiningOp<ed::Im2ColOp>();
  if (!im || im.getPadValue().convertToFloat() != 0.0f || !isStaticF32(im.getInput()) ||
      !isStaticF32(im.getResult()))
    return nullptr;
  return im;
}

// The operand of a transpose of dims 0 and 1 of a 2-D tensor, else null.
Value transposed(Value v) {
  auto t = v.getDefiningOp<ed::TransposeOp>();
  if (!t || cast<RankedTensorType>(t.getInput().getType()).getRank() != 2) return nullptr;
  const int64_t d0 = t.getDim0(), d1 = t.getDim1();
  return (d0 == 0 && d1 == 1) || (d0 == 1 && d1 == 0) ? t.getInput() : nullptr;
}

// [O, N*L] (the matmuls' layout) <-> [N, O, oh, ow] (the conv ops'): reshape, swap, reshape.
Value toImageMajor(OpBuilder& b, Location loc, Value cols2d, int64_t n, ArrayRef<int64_t> o) {
  auto t = cast<RankedTensorType>(cols2d.getType());
  const int64_t ch = t.getDimSize(0), len = o[0] * o[1];
  Type f = t.getElementType();
  Value r = ed::ReshapeOp::create(b, loc, tensorOf({ch, n, len}, f), cols2d);
  Value p = ed::PermuteOp::create(b, loc, tensorOf({n, ch, len}, f), r,
                                  b.getDenseI64ArrayAttr({1, 0, 2}));
  return ed::ReshapeOp::create(b, loc, tensorOf({n, ch, o[0], o[1]}, f), p);
}
Value toChannelMajor(OpBuilder& b, Location loc, Value image) {
  auto t = cast<RankedTensorType>(image.getType());
  const int64_t n = t.getDimSize(0), ch = t.getDimSize(1), len = t.getDimSize(2) * t.getDimSize(3);
  Type f = t.getElementType();
  Value r = ed::ReshapeOp::create(b, loc, tensorOf({n, ch, len}, f), image);
  Value p = ed::PermuteOp::create(b, loc, tensorOf({ch, n, len}, f), r,
                                  b.getDenseI64ArrayAttr({1, 0, 2}));
  return ed::ReshapeOp::create(b, loc, tensorOf({ch, n * len}, f), p);
}

struct FuseConvPass : ember::compiler::impl::FuseConvBase<FuseConvPass> {
  void runOnOperation() override {
    SmallVector<Operation*> candidates;
    getOperation().walk([&](Operation* op) {
      if (isa<ed::MatMulOp, ed::Col2ImOp>(op)) candidates.push_back(op);
    });
    OpBuilder b(&getContext());
    // One image-major copy per gradient value (the weight and input gradients share it).
    llvm::DenseMap<Value, Value> imageMajor;
    auto gradImage = [&](Location loc, Value g2, int64_t n, ArrayRef<int64_t> o) {
      Value& v = imageMajor[g2];
      if (!v) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointAfterValue(g2);
        v = toImageMajor(b, loc, g2, n, o);
      }
      return v;
    };
    for (Operation* op : candidates) {
      b.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto mm = dyn_cast<ed::MatMulOp>(op)) {
        if (!isStaticF32(mm.getLhs()) || !isStaticF32(mm.getRhs())) continue;
        if (ed::Im2ColOp im = convColumns(mm.getRhs())) {
          // Forward: w [O, C*kh*kw] @ im2col(x).
          auto x = cast<RankedTensorType>(im.getInput().getType());
          auto w = cast<RankedTensorType>(mm.getLhs().getType());
          Type y4 = tensorOf({x.getDimSize(0), w.getDimSize(0), im.getOutputSize()[0],
                              im.getOutputSize()[1]}, w.getElementType());
          Value y = withWindowOf<ed::Conv2dOp>(b, loc, y4, im, im.getInput(), mm.getLhs());
          mm.getResult().replaceAllUsesWith(toChannelMajor(b, loc, y));
          mm->erase();
          continue;
        }
        Value cols = transposed(mm.getRhs());
        ed::Im2ColOp im = cols ? convColumns(cols) : nullptr;
        if (!im) continue;
        // Weight gradient: g [O, N*L] @ transpose(im2col(x)).
        auto x = cast<RankedTensorType>(im.getInput().getType());
        Value g4 = gradImage(loc, mm.getLhs(), x.getDimSize(0), im.getOutputSize());
        Value dw = withWindowOf<ed::Conv2dWeightGradOp>(b, loc, mm.getResult().getType(), im,
                                                        im.getInput(), g4);
        mm.getResult().replaceAllUsesWith(dw);
        mm->erase();
        continue;
      }
      // Input gradient: col2im(transpose(w) @ g), the columns' shape fitting the image's.
      auto c2i = cast<ed::Col2ImOp>(op);
      auto mm = c2i.getInput().getDefiningOp<ed::MatMulOp>();
      if (!mm || !mm->hasOneUse() || !isStaticF32(mm.getLhs()) || !isStaticF32(mm.getRhs()) ||
          !isStaticF32(c2i.getResult()))
        continue;
      Value w = transposed(mm.getLhs());
      if (!w || !isStaticF32(w)) continue;
      auto image = cast<RankedTensorType>(c2i.getResult().getType());
      Value g4 = gradImage(loc, mm.getRhs(), image.getDimSize(0), c2i.getOutputSize());
      Value dx = withWindowOf<ed::Conv2dInputGradOp>(b, loc, image, c2i, g4, w);
      c2i.getResult().replaceAllUsesWith(dx);
      c2i->erase();
      mm->erase();
    }
    // What the rewrites left without users (the columns, their transposes, the weight's
    // transpose) would still be computed.
    eraseDeadOps(getOperation());
  }
};

} // namespace
