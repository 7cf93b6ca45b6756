#ifndef EMBER_WINDOW_OPS_TD
#define EMBER_WINDOW_OPS_TD

// Sliding-window ops (convolution and pooling are composites of these and matmul/reductions).
// Tensor form (value semantics, what the importer emits) and memref form (what bufferization
// makes of it: the result written into `output`); ember-window-to-runtime-call turns the memref
// form into calls of ember's CPU kernels.

include "ember/dialects/EmberDialect.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Ember_F32Tensor : RankedTensorOf<[F32]>;
def Ember_F32MemRef : MemRefOf<[F32]>;

class Ember_WindowOp<string mnemonic> : Ember_Op<mnemonic, [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToAllocation", "bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "getBufferType", "bufferize"]>]> {
  let results = (outs Optional<Ember_F32Tensor>:$result);
  let assemblyFormat = [{
    $input (`into` $output^)? attr-dict `:` type($input) (`into` type($output)^)?
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

def Ember_Im2ColOp : Ember_WindowOp<"im2col"> {
  let summary = "sliding windows of an image as columns (the data movement of a convolution)";
  let description = [{
    `input` is an image [N, C, H, W]; the result is [C*kh*kw, N*oh*ow] with
    `result[(c*kh + i)*kw + j, (n*oh + y)*ow + x] = input[n, c, y*sh - pt + i*dh, x*sw - pl + j*dw]`
    for `kernel = [kh, kw]`, `stride = [sh, sw]`, `padding = [pt, pl]` (top and left; the
    bottom and right follow from `output_size = [oh, ow]`), `dilation = [dh, dw]`. Entries
    outside the image read `pad_value` (0 for convolution and average pooling, -inf for max
    pooling). Convolution is one matmul of the weight with these columns; pooling reduces them
    over dimension 0. ember.col2im is its adjoint (and VJP).

    Tensor form: `%cols = ember.im2col %x {...} : tensor<...> -> tensor<...>`.
    Memref form (after bufferization): `ember.im2col %x into %cols {...} : memref<...> into memref<...>`.
  }];
  let arguments = (ins AnyTypeOf<[Ember_F32Tensor, Ember_F32MemRef]>:$input,
                       Optional<Ember_F32MemRef>:$output,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation,
                       DenseI64ArrayAttr:$output_size,
                       DefaultValuedAttr<F32Attr, "0.0">:$pad_value);
}

def Ember_Col2ImOp : Ember_WindowOp<"col2im"> {
  let summary = "the adjoint of ember.im2col: columns summed back into an image";
  let description = [{
    `input` is [C*kh*kw, N*oh*ow] and the result an image [N, C, H, W], zero except where
    windows (the geometry of ember.im2col: `kernel`, `stride`, `padding`, `dilation`,
    `output_size`) cover it: every column entry is added at the pixel ember.im2col read it
    from, and entries that fall outside the image are dropped. It is the VJP of ember.im2col
    (the input gradient of a convolution) and the other way round.
  }];
  let arguments = (ins AnyTypeOf<[Ember_F32Tensor, Ember_F32MemRef]>:$input,
                       Optional<Ember_F32MemRef>:$output,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation,
                       DenseI64ArrayAttr:$output_size);
}

#endif // EMBER_WINDOW_OPS_TD
