#ifndef EMBER_SORT_OPS_TD
#define EMBER_SORT_OPS_TD

// Sorting. Like the window ops, ember.argsort has a tensor form (what the importer emits) and a
// memref form (what bufferization makes of it); ember-sort-to-runtime-call turns the memref form
// into a call of ember's CPU sort kernel (kernels/Sort.h).

include "ember/dialects/EmberDialect.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Ember_AnyMemRef : MemRefOf<[AnyFloat, AnySignlessInteger]>;

def Ember_ArgSortOp : Ember_Op<"argsort", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToAllocation", "bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "getBufferType", "bufferize"]>]> {
  let summary = "positions that sort a tensor along a dimension (torch.argsort, sort, topk)";
  let description = [{
    `result[.., j, ..]` (i64) is the position along `dim` of the j-th smallest value of its line
    (largest when `descending`). NaN is the largest value; equal values keep their order
    (stable, as `torch.sort(stable=True)`). The result has the input's shape, except that dim
    `dim` may be shorter: then only the first entries of the order are computed (topk's k).
    A 0-d input gives 0.

    Tensor form: `%i = ember.argsort %x {dim = 1, descending = false} : tensor<4x8xf32> -> tensor<4x8xi64>`.
    Memref form (after bufferization): `ember.argsort %x into %i {...} : memref<...> into memref<...xi64>`.
  }];
  let arguments = (ins AnyTypeOf<[Ember_AnyTensor, Ember_AnyMemRef]>:$input,
                       Optional<MemRefOf<[I64]>>:$output, I64Attr:$dim, BoolAttr:$descending);
  let results = (outs Optional<Ember_IndexTensor>:$result);
  let assemblyFormat = [{
    $input (`into` $output^)? attr-dict `:` type($input) (`into` type($output)^)?
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

#endif // EMBER_SORT_OPS_TD
