// ember-distinct-results: a value returned more than once gets a copy per repetition, so each
// result bufferizes to its own buffer.
#include "ember/compiler/Passes.h"

namespace ember::compiler {
#define GEN_PASS_DEF_DISTINCTRESULTS
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;

namespace {

struct DistinctResultsPass : ember::compiler::impl::DistinctResultsBase<DistinctResultsPass> {
  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      llvm::SmallPtrSet<Value, 8> seen;
      OpBuilder b(ret);
      for (OpOperand& operand : ret->getOpOperands()) {
        Value v = operand.get();
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || seen.insert(v).second) continue;
        // (A copy takes its dynamic sizes from the tensor it copies.)
        operand.set(bufferization::AllocTensorOp::create(b, ret.getLoc(), type, ValueRange{}, v));
      }
    });
  }
};

} // namespace
