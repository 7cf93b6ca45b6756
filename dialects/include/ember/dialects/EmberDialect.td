#ifndef EMBER_DIALECT_TD
#define EMBER_DIALECT_TD

include "mlir/IR/OpBase.td"

def Ember_Dialect : Dialect {
  let name = "ember";
  let summary = "ember's tensor-level dialect: one op per ember primitive";
  let description = [{
    Traced ember graphs are imported into this dialect, one op per primitive, on ranked
    tensors with value semantics. Ops follow PyTorch's semantics (broadcasting, dtype rules);
    result types are inferred through InferTypeOpInterface.
  }];
  let cppNamespace = "::ember::dialect";
}

class Ember_Op<string mnemonic, list<Trait> traits = []> :
    Op<Ember_Dialect, mnemonic, traits>;

#endif // EMBER_DIALECT_TD
