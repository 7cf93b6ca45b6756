// ember-fuse-pool: a traced max pooling (amax over -inf-padded im2col columns) and its gradient
// (the amax VJP over the same columns, scattered by col2im) -> ember.max_pool2d /
// ember.max_pool2d_grad.
#include "WindowFusion.h"
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/bit.h"

#include <cmath>

namespace ember::compiler {
#define GEN_PASS_DEF_FUSEPOOL
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
using ember::compiler::eraseDeadOps;
using ember::compiler::isStaticF32;
using ember::compiler::withWindowOf;
namespace ed = ember::dialect;

namespace {

// The im2col of a max pooling that produced `v`: -inf outside the image, one channel (the
// tracer pools [N*C, 1, H, W]: reducing dim 0 of the columns then spans one window), static
// f32, every window holding a pixel; else null.
ed::Im2ColOp poolColumns(Value v) {
  auto im = v.getDefiningOp<ed::Im2ColOp>();
  if (!im || !isStaticF32(im.getInput()) || !isStaticF32(im.getResult())) return nullptr;
  const float pad = im.getPadValue().convertToFloat();
  auto x = cast<RankedTensorType>(im.getInput().getType());
  if (!std::isinf(pad) || pad > 0 || x.getDimSize(1) != 1) return nullptr;
  if (!ed::windowsHoldPixels(im.getKernel(), im.getStride(), im.getPadding(), im.getDilation(),
                             im.getOutputSize(), x.getDimSize(2), x.getDimSize(3)))
    return nullptr;
  return im;
}

// `op` reduces dim 0 only, keeping it when `keepdim` says so (nullopt: either way).
template <typename ReduceOp>
bool overDim0(ReduceOp op, std::optional<bool> keepdim = std::nullopt) {
  return op && op.getDims().size() == 1 && op.getDims()[0] == 0 &&
         (!keepdim || op.getKeepdim() == *keepdim);
}

// [N*C, 1, oh, ow]: the pooled image of im2col `im`'s input.
RankedTensorType pooledType(ed::Im2ColOp im) {
  auto x = cast<RankedTensorType>(im.getInput().getType());
  ArrayRef<int64_t> o = im.getOutputSize();
  return RankedTensorType::get({x.getDimSize(0), 1, o[0], o[1]}, x.getElementType());
}

// The one row (one entry per window) of `v`, the cotangent broadcast over the columns' rows
// [K, L]: expand's operand, `v` itself when it has one row, or a constant's first row when all
// its rows are equal (a constant cotangent, expanded while tracing); else null.
Value cotangentRow(OpBuilder& b, Value v, RankedTensorType cols) {
  const int64_t len = cols.getDimSize(1);
  auto oneRow = [&](Value g) {
    if (!isStaticF32(g)) return false;
    auto t = cast<RankedTensorType>(g.getType());
    return t.getRank() >= 1 && t.getRank() <= 2 && t.getNumElements() == len &&
           t.getDimSize(t.getRank() - 1) == len;
  };
  if (auto ex = v.getDefiningOp<ed::ExpandOp>()) v = ex.getInput();
  if (oneRow(v)) return v;
  DenseElementsAttr dense;
  if (v.getType() != cols || !matchPattern(v, m_Constant(&dense))) return nullptr;
  auto rowType = RankedTensorType::get({1, len}, cols.getElementType());
  if (dense.isSplat())
    return arith::ConstantOp::create(b, v.getLoc(), dense.resizeSplat(rowType));
  SmallVector<float> values(dense.getValues<float>());
  for (int64_t i = len; i < int64_t(values.size()); ++i)
    if (llvm::bit_cast<uint32_t>(values[i]) != llvm::bit_cast<uint32_t>(values[i % len]))
      return nullptr;
  values.resize(len);
  return arith::ConstantOp::create(b, v.getLoc(),
                                   DenseElementsAttr::get(rowType, ArrayRef<float>(values)));
}

// The amax VJP that col2im `c2i` scatters: mul(div(expand(g), sum(hit, 0)), hit) with
// hit = cast(eq(cols, amax(cols, 0, keepdim))), over pooling columns of c2i's geometry. Returns
// the columns' im2col and sets `grad` to g's row ([1, L] or [L]: cotangentRow), else null.
ed::Im2ColOp amaxGradient(OpBuilder& b, ed::Col2ImOp c2i, Value& grad) {
  auto mul = c2i.getInput().getDefiningOp<ed::MulOp>();
  if (!mul) return nullptr;
  for (int side = 0; side < 2; ++side) {
    Value q = side ? mul.getRhs() : mul.getLhs(), hit = side ? mul.getLhs() : mul.getRhs();
    auto div = q.getDefiningOp<ed::DivOp>();
    auto mask = hit.getDefiningOp<ed::CastOp>();
    if (!div || !mask || !mask.getInput().getType().getElementType().isInteger(1)) continue;
    auto count = div.getRhs().getDefiningOp<ed::SumOp>();
    if (!overDim0(count, true) || count.getInput() != hit) continue;
    auto eq = mask.getInput().getDefiningOp<ed::EqOp>();
    if (!eq) continue;
    for (int e = 0; e < 2; ++e) {
      Value cols = e ? eq.getRhs() : eq.getLhs();
      auto top = (e ? eq.getLhs() : eq.getRhs()).getDefiningOp<ed::AmaxOp>();
      ed::Im2ColOp im = poolColumns(cols);
      if (!im || !overDim0(top, true) || top.getInput() != cols) continue;
      // The geometry of the scatter is the columns', back onto the image they came from.
      if (c2i.getResult().getType() != im.getInput().getType() ||
          c2i.getKernel() != im.getKernel() || c2i.getStride() != im.getStride() ||
          c2i.getPadding() != im.getPadding() || c2i.getDilation() != im.getDilation() ||
          c2i.getOutputSize() != im.getOutputSize())
        return nullptr;
      Value g = cotangentRow(b, div.getLhs(), cast<RankedTensorType>(cols.getType()));
      if (!g) return nullptr;
      grad = g;
      return im;
    }
  }
  return nullptr;
}

struct FusePoolPass : ember::compiler::impl::FusePoolBase<FusePoolPass> {
  void runOnOperation() override {
    OpBuilder b(&getContext());
    // The gradients first: their amax (keepdim) would otherwise look like a forward pooling.
    SmallVector<ed::Col2ImOp> scatters;
    getOperation().walk([&](ed::Col2ImOp op) { scatters.push_back(op); });
    for (ed::Col2ImOp c2i : scatters) {
      Value g;
      b.setInsertionPoint(c2i);
      ed::Im2ColOp im = amaxGradient(b, c2i, g);
      if (!im) continue;
      b.setInsertionPoint(c2i);
      Location loc = c2i.getLoc();
      Value g4 = ed::ReshapeOp::create(b, loc, pooledType(im), g);
      Value dx = withWindowOf<ed::MaxPool2dGradOp>(b, loc, c2i.getResult().getType(), im,
                                                   im.getInput(), g4);
      c2i.getResult().replaceAllUsesWith(dx);
      c2i->erase();
    }
    eraseDeadOps(getOperation());
    // Forward: amax over dim 0 of the columns -> the pooled planes, reshaped to amax's result.
    SmallVector<ed::AmaxOp> maxima;
    getOperation().walk([&](ed::AmaxOp op) { maxima.push_back(op); });
    for (ed::AmaxOp top : maxima) {
      ed::Im2ColOp im = overDim0(top) ? poolColumns(top.getInput()) : nullptr;
      if (!im) continue;
      b.setInsertionPoint(top);
      Location loc = top.getLoc();
      Value y = withWindowOf<ed::MaxPool2dOp>(b, loc, pooledType(im), im, im.getInput());
      top.getResult().replaceAllUsesWith(
          ed::ReshapeOp::create(b, loc, top.getResult().getType(), y).getResult());
      top->erase();
    }
    // The columns (and the rest of the amax VJP) are left without users unless something
    // else reads them (max_pool2d's indices: an argmax of the columns): erase what is dead.
    eraseDeadOps(getOperation());
  }
};

} // namespace
