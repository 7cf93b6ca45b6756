#ifndef EMBER_OPS_TD
#define EMBER_OPS_TD

include "ember/dialects/EmberDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/RegionKindInterface.td"

def Ember_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Ember_BoolTensor : RankedTensorOf<[I1]>;
// Values of any dtype the compiler handles: floats, signless integers (i64, i32 for int64 and
// int32 tensors; i1 for bool masks).
def Ember_AnyTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
def Ember_IntegerTensor : RankedTensorOf<[AnySignlessInteger]>;
def Ember_IndexTensor : RankedTensorOf<[I64]>;

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

// The records' dtype rules: Same computes in the operands' type (float or integer: the
// scalar expression picks arith's integer ops for integers); Float computes in the operands'
// float type; Bool compares (or classifies) any operands and gives i1; Integral and Integer work
// on signless integers (i1 included).
class Ember_ElementwiseOp1Same<string m, string s, string e>
    : Ember_ElementwiseOp1<m, s, e, Ember_AnyTensor>;
class Ember_ElementwiseOp1Float<string m, string s, string e> : Ember_ElementwiseOp1<m, s, e>;
class Ember_ElementwiseOp2Same<string m, string s, string e>
    : Ember_ElementwiseOp2<m, s, e, Ember_AnyTensor>;
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
  let arguments = (ins Ember_AnyTensor:$input);
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
  let arguments = (ins Ember_AnyTensor:$lhs, Ember_AnyTensor:$rhs);
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
  let summary = "elementwise dtype conversion (Tensor.to(dtype))";
  let description = [{
    PyTorch's conversions: i1 becomes 0 / 1 (0.0 / 1.0), anything else becomes i1 by comparing
    with zero, floats become integers by truncation toward zero, integers widen with their sign.
  }];
  let arguments = (ins Ember_AnyTensor:$input);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ember_WhereOp : Ember_Op<"where", [Pure]> {
  let summary = "where(cond, a, b), elementwise with broadcasting (torch.where)";
  let arguments = (ins Ember_BoolTensor:$cond, Ember_AnyTensor:$lhs, Ember_AnyTensor:$rhs);
  let results = (outs Ember_AnyTensor:$result);
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
  let arguments = (ins Ember_AnyTensor:$input, DenseI64ArrayAttr:$dims, BoolAttr:$keepdim);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::ember::dialect::verifyReduce(getOperation(), getDims(), getKeepdim());
    }
  }];
}

def Ember_SumOp : Ember_ReduceOp<"sum", "sum over dimensions (torch.sum; integers wrap)">;
def Ember_AmaxOp : Ember_ReduceOp<"amax", "maximum over dimensions, NaN-propagating (torch.amax)">;
def Ember_AminOp : Ember_ReduceOp<"amin", "minimum over dimensions, NaN-propagating (torch.amin)">;
def Ember_ProdOp : Ember_ReduceOp<"prod", "product over dimensions (torch.prod; integers wrap)">;

class Ember_ScanOp<string mnemonic, string sum, string combine>
    : Ember_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = sum;
  let description = "Running " # combine # [{ along `dim`: result[.., j, ..] combines
    input[.., 0..j, ..], or input[.., j..n-1, ..] when `reverse` is set. The result has the
    input's type (the importer casts integer and bool inputs to i64 first, as PyTorch computes
    them in int64; integers wrap). A 0-d input is its own scan (`dim` 0).
  }];
  let arguments = (ins Ember_AnyTensor:$input, I64Attr:$dim,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::ember::dialect::verifyScan(getOperation(), getDim());
    }
  }];
}

def Ember_CumSumOp : Ember_ScanOp<"cumsum", "running sums along a dimension (torch.cumsum)", "sums">;
def Ember_CumProdOp : Ember_ScanOp<"cumprod", "running products along a dimension (torch.cumprod)",
                                   "products">;

def Ember_ReshapeOp : Ember_Op<"reshape", [Pure]> {
  let summary = "the same elements in a new shape (torch.reshape)";
  let arguments = (ins Ember_AnyTensor:$input);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Ember_TransposeOp : Ember_Op<"transpose", [Pure]> {
  let summary = "swap two dimensions (torch.transpose)";
  let arguments = (ins Ember_AnyTensor:$input, I64Attr:$dim0, I64Attr:$dim1);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
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
  let arguments = (ins Ember_AnyTensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Ember_SliceOp : Ember_Op<"slice", [Pure]> {
  let summary = "every step-th index of [start, end) along one dimension (basic slicing)";
  let arguments = (ins Ember_AnyTensor:$input, I64Attr:$dim, I64Attr:$start, I64Attr:$end,
                       I64Attr:$step);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_SliceBackwardOp : Ember_Op<"slice_backward", [Pure]> {
  let summary = "zeros with the input written into a slice (the gradient of ember.slice)";
  let arguments = (ins Ember_AnyTensor:$input, I64Attr:$dim, I64Attr:$start, I64Attr:$end,
                       I64Attr:$step);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ember_CatOp : Ember_Op<"cat", [Pure]> {
  let summary = "concatenate along a dimension (torch.cat)";
  let arguments = (ins Variadic<Ember_AnyTensor>:$inputs, I64Attr:$dim);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_ExpandOp : Ember_Op<"expand", [Pure]> {
  let summary = "broadcast to a larger shape (torch.expand)";
  let arguments = (ins Ember_AnyTensor:$input);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_UnfoldOp : Ember_Op<"unfold", [Pure]> {
  let summary = "sliding windows along a dimension as a new last dimension (Tensor.unfold)";
  let description = [{
    `result[.., w, .., k] = input[.., w * step + k, ..]`: dimension `dim` (of size n) becomes
    the window index, `(n - size) / step + 1` windows, and a last dimension of `size` is
    appended. A 0-d input (`dim` 0) gives `[size]` (size 0 or 1). Eagerly a view; compiled, a
    copy.
  }];
  let arguments = (ins Ember_AnyTensor:$input, I64Attr:$dim, I64Attr:$size, I64Attr:$step);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}


//===----------------------------------------------------------------------===//
// Indexing: data-dependent reads and writes along one dimension (int64 indices).
//===----------------------------------------------------------------------===//

def Ember_IndexSelectOp : Ember_Op<"index_select", [Pure]> {
  let summary = "entries of `input` at `index` along `dim` (torch.index_select)";
  let description = [{
    `index` is 1-D (or 0-D); the result is `input` with dimension `dim` replaced by the index's
    length. Negative indices count from the end, as in the eager kernel. An index outside
    [-size, size) is reported at run time (ember_index_error) and reads entry 0.
  }];
  let arguments = (ins Ember_AnyTensor:$input, Ember_IndexTensor:$index, I64Attr:$dim);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input `,` $index attr-dict `:` type($input) `,` type($index) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_IndexAddOp : Ember_Op<"index_add", [Pure]> {
  let summary = "zeros of the result shape with `source`'s slices added at `index` along `dim`";
  let description = [{
    The gradient of `ember.index_select`: result[.., index[i], ..] += source[.., i, ..], where
    the result is `source`'s shape with dimension `dim` of size `size`. Repeated indices
    accumulate. Negative indices count from the end; others outside [-size, size) are reported
    at run time (the call fails; the entry goes to position 0 meanwhile).
  }];
  let arguments = (ins Ember_AnyTensor:$source, Ember_IndexTensor:$index, I64Attr:$dim,
                       I64Attr:$size);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$source `,` $index attr-dict `:` type($source) `,` type($index) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_GatherOp : Ember_Op<"gather", [Pure]> {
  let summary = "result[i..] = input[i.. with index[i..] at dim] (torch.gather)";
  let description = [{
    The result has the index's shape (no larger than the input's outside `dim`). An index
    outside [0, size) is reported at run time and reads entry 0.
  }];
  let arguments = (ins Ember_AnyTensor:$input, Ember_IndexTensor:$index, I64Attr:$dim);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input `,` $index attr-dict `:` type($input) `,` type($index) `->` type($result)";
  let hasVerifier = 1;
}

class Ember_ScatterLikeOp<string mnemonic, string sum> : Ember_Op<mnemonic, [Pure]> {
  let summary = sum;
  let description = [{
    A copy of `input` with src[i..] written (or added) at input[i.. with index[i..] at dim],
    for every position of `index` (no larger than `input` outside `dim`, and than `src`). An
    index outside [0, size) is reported at run time (the call fails; the entry goes to
    position 0 meanwhile).
  }];
  let arguments = (ins Ember_AnyTensor:$input, Ember_IndexTensor:$index, Ember_AnyTensor:$src,
                       I64Attr:$dim);
  let results = (outs Ember_AnyTensor:$result);
  let assemblyFormat = "$input `,` $index `,` $src attr-dict `:` type($input) `,` type($index) `,` type($src) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_ScatterOp : Ember_ScatterLikeOp<"scatter", "write src at index along dim (torch.scatter)">;
def Ember_ScatterAddOp : Ember_ScatterLikeOp<"scatter_add",
                                             "add src at index along dim (torch.scatter_add)">;

class Ember_ArgReduceOp<string mnemonic, string sum> : Ember_Op<mnemonic, [Pure]> {
  let summary = sum;
  let description = [{
    The position (i64) of the first extreme entry along `dim`; a NaN counts as the extreme.
    `dim` is dropped, or kept with size 1 when `keepdim` is set. (torch's whole-tensor form is
    a reshape to 1-D first.)
  }];
  let arguments = (ins Ember_AnyTensor:$input, I64Attr:$dim, BoolAttr:$keepdim);
  let results = (outs Ember_IndexTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ember_ArgMaxOp : Ember_ArgReduceOp<"argmax", "index of the maximum along a dimension (torch.argmax)">;
def Ember_ArgMinOp : Ember_ArgReduceOp<"argmin", "index of the minimum along a dimension (torch.argmin)">;

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
include "ember/dialects/EmberSortOps.td"

#endif // EMBER_OPS_TD
