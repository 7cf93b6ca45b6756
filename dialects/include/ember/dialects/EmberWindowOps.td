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

// Window ops of two inputs (static f32; same two forms as the window ops, `output` written).
class Ember_WindowOp2<string mnemonic> : Ember_Op<mnemonic, [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToAllocation", "bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "getBufferType", "bufferize"]>]> {
  let arguments = (ins AnyTypeOf<[Ember_F32Tensor, Ember_F32MemRef]>:$lhs,
                       AnyTypeOf<[Ember_F32Tensor, Ember_F32MemRef]>:$rhs,
                       Optional<Ember_F32MemRef>:$output,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation,
                       DenseI64ArrayAttr:$output_size);
  let results = (outs Optional<Ember_F32Tensor>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs (`into` $output^)? attr-dict `:` type($lhs) `,` type($rhs)
    (`into` type($output)^)? (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

// The convolution and its two gradients as single ops, for the CPU backend: ember-fuse-conv
// makes them from im2col + matmul (and matmul + col2im) and ember-window-to-runtime-call calls
// ember's implicit-GEMM kernels for them, so the columns are never written. Groups 1, f32,
// static shapes; `weight` is the matmul's [O, C*kh*kw].
class Ember_ConvOp<string mnemonic> : Ember_WindowOp2<mnemonic>;

def Ember_Conv2dOp : Ember_ConvOp<"conv2d"> {
  let summary = "convolution of an image with a weight matrix (no bias, groups 1)";
  let description = [{
    `lhs` is the image x [N, C, H, W], `rhs` the weight [O, C*kh*kw]; the result y
    [N, O, oh, ow] is `matmul(rhs, im2col(x))` (ember.im2col's geometry, zeros outside the
    image) laid out image-major: y[n, o, p] = (rhs @ cols)[o, n*oh*ow + p].
  }];
}

def Ember_Conv2dWeightGradOp : Ember_ConvOp<"conv2d_weight_grad"> {
  let summary = "the weight gradient of ember.conv2d";
  let description = [{
    `lhs` is the image x [N, C, H, W], `rhs` the output gradient g [N, O, oh, ow]; the result
    [O, C*kh*kw] is `matmul(g', transpose(im2col(x)))` with g' = g as [O, N*oh*ow].
  }];
}

def Ember_Conv2dInputGradOp : Ember_ConvOp<"conv2d_input_grad"> {
  let summary = "the input gradient of ember.conv2d";
  let description = [{
    `lhs` is the output gradient g [N, O, oh, ow], `rhs` the weight [O, C*kh*kw]; the result
    [N, C, H, W] is `col2im(matmul(transpose(rhs), g'))` with g' = g as [O, N*oh*ow].
  }];
}

// Max pooling and its gradient as single ops, for the CPU backend: ember-fuse-pool makes them
// from amax(im2col(x, pad_value = -inf)) and the amax gradient scattered by col2im, and
// ember-window-to-runtime-call calls ember's pooling kernels for them (no columns). Static f32.
def Ember_MaxPool2dOp : Ember_WindowOp<"max_pool2d"> {
  let summary = "max pooling of every [H, W] plane of an image (PyTorch's max_pool2d)";
  let description = [{
    `input` is an image x [N, C, H, W]; the result y [N, C, oh, ow] holds the maximum of each
    window (ember.im2col's geometry: `kernel`, `stride`, `padding`, `dilation`,
    `output_size`; positions outside the image never win, and every window must hold one
    inside), NaN when the window holds a NaN. It equals
    `amax(im2col(x as [N*C, 1, H, W], pad_value = -inf), dims = [0])`.
  }];
  let arguments = (ins AnyTypeOf<[Ember_F32Tensor, Ember_F32MemRef]>:$input,
                       Optional<Ember_F32MemRef>:$output,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation,
                       DenseI64ArrayAttr:$output_size);
}

def Ember_MaxPool2dGradOp : Ember_WindowOp2<"max_pool2d_grad"> {
  let summary = "the input gradient of ember.max_pool2d";
  let description = [{
    `lhs` is the image x [N, C, H, W], `rhs` the output gradient g [N, C, oh, ow]; the result
    [N, C, H, W] is zero except at each window's maximum, which gets the window's g (summed
    where windows overlap). The maximum is found again in x with PyTorch's rule, the one of
    its indices: the first maximum in scan order, a NaN if there is one (the last), the
    window's first position when it holds only -inf. So ties go to one element, as in
    PyTorch and ember's eager max_pool2d (the amax gradient would share them).
  }];
}

#endif // EMBER_WINDOW_OPS_TD
