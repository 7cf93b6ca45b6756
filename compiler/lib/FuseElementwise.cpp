// ember-fuse-elementwise: chains of elementwise ops -> one ember.fusion kernel.
#include "ember/compiler/Elementwise.h"
#include "ember/compiler/DynamicShapes.h"
#include "ember/compiler/Passes.h"
#include "ember/dialects/EmberDialect.h"

#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace ember::compiler {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "ember/compiler/Passes.h.inc"
} // namespace ember::compiler

using namespace mlir;
namespace ed = ember::dialect;

namespace {

// The group rooted at `root`: root plus, transitively, elementwise producers with the root's
// result shape (any element type: comparisons feed selects) whose every user is already in
// the group.
SmallVector<Operation*> collectGroup(Operation* root) {
  llvm::SetVector<Operation*> group;
  group.insert(root);
  auto shape = cast<ShapedType>(root->getResult(0).getType()).getShape();
  for (size_t i = 0; i < group.size(); ++i) {
    for (Value operand : group[i]->getOperands()) {
      Operation* producer = operand.getDefiningOp();
      if (!producer || group.contains(producer) || !ember::compiler::isElementwise(producer) ||
          cast<ShapedType>(producer->getResult(0).getType()).getShape() != shape ||
          producer->getBlock() != root->getBlock())
        continue;
      if (llvm::all_of(producer->getUsers(), [&](Operation* u) { return group.contains(u); }))
        group.insert(producer);
    }
  }
  SmallVector<Operation*> ops(group.begin(), group.end());
  llvm::sort(ops, [](Operation* a, Operation* b) { return a->isBeforeInBlock(b); });
  return ops;
}

void fuse(ArrayRef<Operation*> ops, Operation* root) {
  llvm::SetVector<Value> inputs;
  llvm::SmallPtrSet<Operation*, 8> inGroup(ops.begin(), ops.end());
  for (Operation* op : ops)
    for (Value v : op->getOperands())
      if (!v.getDefiningOp() || !inGroup.contains(v.getDefiningOp())) inputs.insert(v);

  // The kernel is named after its ops ("fused_mul_add_erf"; each op once, in order): the loop
  // and function names of the generated code (and EMBER_DUMP's files) carry it.
  std::string name = "fused";
  llvm::StringSet<> seen;
  for (Operation* op : ops) {
    llvm::StringRef opName = op->getName().stripDialect();
    if (seen.insert(opName).second && seen.size() <= 6) name += ("_" + opName).str();
  }
  OpBuilder b(root);
  auto fusion = ed::FusionOp::create(
      b, mlir::NameLoc::get(b.getStringAttr(name), root->getLoc()), root->getResult(0).getType(),
      inputs.getArrayRef());
  // A dynamic result keeps its sizes (DynamicShapes.h).
  if (Attribute sizes = root->getAttr(ember::compiler::kDimSizesAttr))
    fusion->setAttr(ember::compiler::kDimSizesAttr, sizes);
  Block* body = b.createBlock(&fusion.getBody());
  IRMapping map;
  for (Value in : inputs) map.map(in, body->addArgument(in.getType(), in.getLoc()));
  for (Operation* op : ops) b.clone(*op, map);
  ed::YieldOp::create(b, root->getLoc(), map.lookup(root->getResult(0)));

  root->getResult(0).replaceAllUsesWith(fusion.getResult());
  for (Operation* op : llvm::reverse(ops)) op->erase();
}

struct FuseElementwisePass
    : ember::compiler::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    // Roots are visited last-to-first so each group is as large as it can be.
    SmallVector<Operation*> candidates;
    getOperation().walk([&](Operation* op) {
      if (ember::compiler::isElementwise(op) && !op->getParentOfType<ed::FusionOp>())
        candidates.push_back(op);
    });
    llvm::SmallPtrSet<Operation*, 16> fused;
    for (Operation* root : llvm::reverse(candidates)) {
      if (fused.contains(root)) continue;
      SmallVector<Operation*> group = collectGroup(root);
      if (group.size() < 2) continue;
      fused.insert(group.begin(), group.end());
      fuse(group, root);
    }
  }
};

} // namespace
