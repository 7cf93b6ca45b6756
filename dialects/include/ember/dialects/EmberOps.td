#ifndef EMBER_OPS_TD
#define EMBER_OPS_TD

include "ember/dialects/EmberDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

def Ember_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Ember_BoolTensor : RankedTensorOf<[I1]>;
def Ember_AnyTensor : RankedTensorOf<[AnyFloat, I1]>;
def Ember_IntegerTensor : RankedTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Elementwise ops: generated from the op records (Elementwise.def).
//===----------------------------------------------------------------------===//

class Ember_ElementwiseOp1<string mnemonic, string sum, string expr,
                           Type tensor = Ember_FloatTensor>
    : Ember_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = sum;
  let description = "Elementwise; the scalar expression is `" # expr # "` in the operand `a`.";
  let arguments = (ins tensor:$input);
  let results = (outs tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class Ember_ElementwiseOp2<string mnemonic, string sum, string expr,
                           Type tensor = Ember_FloatTensor>
    : Ember_Op<mnemonic, [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = sum;
  let description = "Elementwise with PyTorch broadcasting (trailing dimensions align, size-1 "
                    "dimensions stretch); both operands share one element type. The "
                    "scalar expression is `" # expr # "` in the operands `a`, `b`.";
  let arguments = (ins tensor:$lhs, tensor:$rhs);
  let results = (outs tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext*,
        ::std::optional<::mlir::Location> loc, ::mlir::ValueRange operands,
        ::mlir::DictionaryAttr, ::mlir::OpaqueProperties, ::mlir::RegionRange,
        ::llvm::SmallVectorImpl<::mlir::Type>& results) {
      return ::ember::dialect::inferBroadcastResult(loc, getOperationName(), operands, results);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::ember::dialect::verifyBroadcastResult(getOperation());
    }
  }];
}

// The records' dtype rules: Same and Float compute in the operands' float type; Bool compares
// (or classifies) and gives i1; Integral and Integer work on signless integers (i1 included).
class Ember_ElementwiseOp1Same<string m, string s, string e> : Ember_ElementwiseOp1<m, s, e>;
class Ember_ElementwiseOp1Float<string m, string s, string e> : Ember_ElementwiseOp1<m, s, e>;
class Ember_ElementwiseOp2Same<string m, string s, string e> : Ember_ElementwiseOp2<m, s, e>;
class Ember_ElementwiseOp2Float<string m, string s, string e> : Ember_ElementwiseOp2<m, s, e>;
class Ember_ElementwiseOp1Integral<string m, string s, string e>
    : Ember_ElementwiseOp1<m, s, e, Ember_IntegerTensor>;
class Ember_ElementwiseOp2Integral<string m, string s, string e>
    : Ember_ElementwiseOp2<m, s, e, Ember_IntegerTensor>;
class Ember_ElementwiseOp2Integer<string m, string s, string e>
    : Ember_ElementwiseOp2<m, s, e, Ember_IntegerTensor>;
class Ember_ElementwiseOp1Bool<string mnemonic, string sum, string expr>
    : Ember_Op<mnemonic, [Pure, SameOperandsAndResultShape,
                          DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = sum;
  let description = "Elementwise test; the result is i1. The scalar expression is `" # expr #
                    "` in the operand `a`.";
  let arguments = (ins Ember_FloatTensor:$input);
  let results = (outs Ember_BoolTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext* ctx,
        ::std::optional<::mlir::Location>, ::mlir::ValueRange operands,
        ::mlir::DictionaryAttr, ::mlir::OpaqueProperties, ::mlir::RegionRange,
        ::llvm::SmallVectorImpl<::mlir::Type>& results) {
      results.push_back(::mlir::cast<::mlir::RankedTensorType>(operands[0].getType())
                            .clone(::mlir::IntegerType::get(ctx, 1)));
      return ::mlir::success();
    }
  }];
}
class Ember_ElementwiseOp2Bool<string mnemonic, string sum, string expr>
    : Ember_Op<mnemonic, [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = sum;
  let description = "Elementwise comparison with PyTorch broadcasting; the result is i1. The "
                    "scalar expression is `" # expr # "` in the operands `a`, `b`.";
  let arguments = (ins Ember_FloatTensor:$lhs, Ember_FloatTensor:$rhs);
  let results = (outs Ember_BoolTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(::mlir::MLIRContext* ctx,
        ::std::optional<::mlir::Location> loc, ::mlir::ValueRange operands,
        ::mlir::DictionaryAttr, ::mlir::OpaqueProperties, ::mlir::RegionRange,
        ::llvm::SmallVectorImpl<::mlir::Type>& results) {
      if (failed(::ember::dialect::inferBroadcastResult(loc, getOperationName(), operands, results)))
        return ::mlir::failure();
      results[0] = ::mlir::cast<::mlir::RankedTensorType>(results[0]).clone(::mlir::IntegerType::get(ctx, 1));
      return ::mlir::success();
    }
  }];
}

include "ember/dialects/EmberElementwiseOps.td"

def Ember_CastOp : Ember_Op<"cast", [Pure, SameOperandsAndResultShape]> {
  let summary = "elementwise dtype conversion (Tensor.to(dtype)); i1 becomes 0.0 / 1.0";
  let arguments = (ins Ember_AnyTensor:$input);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ember_WhereOp : Ember_Op<"where", [Pure]> {
  let summary = "where(cond, a, b), elementwise with broadcasting (torch.where)";
  let arguments = (ins Ember_BoolTensor:$cond, Ember_FloatTensor:$lhs, Ember_FloatTensor:$rhs);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` type($lhs) `,` type($rhs) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Structural ops.
//===----------------------------------------------------------------------===//

def Ember_MatMulOp : Ember_Op<"matmul",
    [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "2-D matrix product (torch.matmul on matrices)";
  let description = "`lhs` is MxK, `rhs` is KxN, the result is MxN.";
  let arguments = (ins Ember_FloatTensor:$lhs, Ember_FloatTensor:$rhs);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasVerifier = 1;
}

class Ember_ReduceOp<string mnemonic, string sum> : Ember_Op<mnemonic, [Pure]> {
  let summary = sum;
  let description = [{
    Reduces over `dims` (sorted, non-negative; every dimension when empty). Reduced
    dimensions are dropped, or kept with size 1 when `keepdim` is set.
  }];
  let arguments = (ins Ember_FloatTensor:$input, DenseI64ArrayAttr:$dims, BoolAttr:$keepdim);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::ember::dialect::verifyReduce(getOperation(), getDims(), getKeepdim());
    }
  }];
}

def Ember_SumOp : Ember_ReduceOp<"sum", "sum over dimensions (torch.sum)">;
def Ember_AmaxOp : Ember_ReduceOp<"amax", "maximum over dimensions, NaN-propagating (torch.amax)">;
def Ember_AminOp : Ember_ReduceOp<"amin", "minimum over dimensions, NaN-propagating (torch.amin)">;

def Ember_ReshapeOp : Ember_Op<"reshape", [Pure]> {
  let summary = "the same elements in a new shape (torch.reshape)";
  let arguments = (ins Ember_FloatTensor:$input);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_TransposeOp : Ember_Op<"transpose", [Pure]> {
  let summary = "swap two dimensions (torch.transpose)";
  let arguments = (ins Ember_FloatTensor:$input, I64Attr:$dim0, I64Attr:$dim1);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_BatchMatMulOp : Ember_Op<"bmm", [Pure]> {
  let summary = "batched matrix product (torch.bmm)";
  let description = "`lhs` is BxMxK, `rhs` is BxKxN, the result is BxMxN.";
  let arguments = (ins Ember_FloatTensor:$lhs, Ember_FloatTensor:$rhs);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_PermuteOp : Ember_Op<"permute", [Pure]> {
  let summary = "reorder dimensions (torch.permute)";
  let description = "Result dimension i is input dimension `dims[i]`.";
  let arguments = (ins Ember_FloatTensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_SliceOp : Ember_Op<"slice", [Pure]> {
  let summary = "every step-th index of [start, end) along one dimension (basic slicing)";
  let arguments = (ins Ember_FloatTensor:$input, I64Attr:$dim, I64Attr:$start, I64Attr:$end,
                       I64Attr:$step);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_SliceBackwardOp : Ember_Op<"slice_backward", [Pure]> {
  let summary = "zeros with the input written into a slice (the gradient of ember.slice)";
  let arguments = (ins Ember_FloatTensor:$input, I64Attr:$dim, I64Attr:$start, I64Attr:$end,
                       I64Attr:$step);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ember_CatOp : Ember_Op<"cat", [Pure]> {
  let summary = "concatenate along a dimension (torch.cat)";
  let arguments = (ins Variadic<Ember_FloatTensor>:$inputs, I64Attr:$dim);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_ExpandOp : Ember_Op<"expand", [Pure]> {
  let summary = "broadcast to a larger shape (torch.expand)";
  let arguments = (ins Ember_FloatTensor:$input);
  let results = (outs Ember_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernel level: a fused group of elementwise ops, consumed by the CPU and the CUDA backends.
//===----------------------------------------------------------------------===//

def Ember_FusionOp : Ember_Op<"fusion", [IsolatedFromAbove, Pure]> {
  let summary = "a group of elementwise ops computed in one kernel";
  let description = [{
    The body computes the result from the block arguments (one per operand) with elementwise
    ember ops and `ember.yield`s it. Operands broadcast to the result shape. Each backend turns
    the whole body into one loop nest (CPU) or one kernel (CUDA), so intermediates never reach
    memory.

    ```mlir
    %r = ember.fusion %x, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32> {
    ^bb0(%a: tensor<8x16xf32>, %c: tensor<16xf32>):
      %0 = ember.add %a, %c : tensor<8x16xf32>, tensor<16xf32>
      %1 = ember.relu %0 : tensor<8x16xf32>
      ember.yield %1 : tensor<8x16xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Ember_AnyTensor>:$inputs);
  let results = (outs Ember_AnyTensor:$result);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result) $body";
  let hasVerifier = 1;
}

def Ember_YieldOp : Ember_Op<"yield", [Pure, Terminator, HasParent<"FusionOp">]> {
  let summary = "the result of an ember.fusion body";
  let arguments = (ins Ember_AnyTensor:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

include "ember/dialects/EmberWindowOps.td"

#endif // EMBER_OPS_TD
