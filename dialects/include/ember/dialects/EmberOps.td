#ifndef EMBER_OPS_TD
#define EMBER_OPS_TD

include "ember/dialects/EmberDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Ember_FloatTensor : RankedTensorOf<[AnyFloat]>;

def Ember_AddOp : Ember_Op<"add",
    [Pure, Commutative, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "elementwise addition with broadcasting (torch.add)";
  let description = [{
    `lhs + rhs`, elementwise. The operand shapes broadcast as in PyTorch (align trailing
    dimensions; a size-1 dimension stretches). Both operands have the same float element type.

    ```mlir
    %r = ember.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
    ```
  }];
  let arguments = (ins Ember_FloatTensor:$lhs, Ember_FloatTensor:$rhs);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
}

#endif // EMBER_OPS_TD
