// RUN: ember-opt %s --pass-pipeline='builtin.module(func.func(ember-fuse-pool))' | FileCheck %s
// A traced max pooling (amax over -inf-padded columns of x as [N*C, 1, H, W]) and its gradient
// (amax's VJP over the same columns, scattered by col2im) become the pooling ops; anything
// else stays.

// Forward: the pooled planes, reshaped to amax's result; the columns disappear.
// CHECK-LABEL: func.func @forward
// CHECK-NOT: ember.im2col
// CHECK: %[[Y:.*]] = ember.max_pool2d %arg0 {dilation = array<i64: 1, 2>, kernel = array<i64: 3, 2>, output_size = array<i64: 5, 4>, padding = array<i64: 1, 1>, stride = array<i64: 2, 1>} : tensor<6x1x9x5xf32> -> tensor<6x1x5x4xf32>
// CHECK: %[[R:.*]] = ember.reshape %[[Y]] : tensor<6x1x5x4xf32> -> tensor<120xf32>
// CHECK-NOT: ember.amax
// CHECK: return %[[R]]
func.func @forward(%x: tensor<6x1x9x5xf32>) -> tensor<120xf32> {
  %c = ember.im2col %x {kernel = array<i64: 3, 2>, stride = array<i64: 2, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, output_size = array<i64: 5, 4>, pad_value = 0xFF800000 : f32} : tensor<6x1x9x5xf32> -> tensor<6x120xf32>
  %m = ember.amax %c {dims = array<i64: 0>, keepdim = false} : tensor<6x120xf32> -> tensor<120xf32>
  return %m : tensor<120xf32>
}

// With keepdim the reshape goes to [1, L].
// CHECK-LABEL: func.func @forward_keepdim
// CHECK: %[[Y:.*]] = ember.max_pool2d %arg0
// CHECK: ember.reshape %[[Y]] : tensor<4x1x2x2xf32> -> tensor<1x16xf32>
// CHECK-NOT: ember.im2col
func.func @forward_keepdim(%x: tensor<4x1x4x4xf32>) -> tensor<1x16xf32> {
  %c = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<4x1x4x4xf32> -> tensor<4x16xf32>
  %m = ember.amax %c {dims = array<i64: 0>, keepdim = true} : tensor<4x16xf32> -> tensor<1x16xf32>
  return %m : tensor<1x16xf32>
}

// A training step as the tracer emits it (max_pool2d(x, 2) of x [4, 3, 8, 8]): the forward
// amax and the gradient's amax / eq / cast / sum / div / mul / col2im all go; the cotangent
// [1, L] is reshaped to the pooled planes.
// CHECK-LABEL: func.func @training
// CHECK: %[[X:.*]] = ember.reshape %arg0 : tensor<4x3x8x8xf32> -> tensor<12x1x8x8xf32>
// CHECK: %[[Y:.*]] = ember.max_pool2d %[[X]] {{.*}} : tensor<12x1x8x8xf32> -> tensor<12x1x4x4xf32>
// CHECK: ember.reshape %[[Y]] : tensor<12x1x4x4xf32> -> tensor<192xf32>
// CHECK: %[[G:.*]] = ember.reshape %{{.*}} : tensor<1x192xf32> -> tensor<12x1x4x4xf32>
// CHECK: %[[DX:.*]] = ember.max_pool2d_grad %[[X]], %[[G]] {dilation = array<i64: 1, 1>, kernel = array<i64: 2, 2>, output_size = array<i64: 4, 4>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<12x1x8x8xf32>, tensor<12x1x4x4xf32> -> tensor<12x1x8x8xf32>
// CHECK: ember.reshape %[[DX]] : tensor<12x1x8x8xf32> -> tensor<4x3x8x8xf32>
// CHECK-NOT: ember.im2col
// CHECK-NOT: ember.amax
// CHECK-NOT: ember.eq
// CHECK-NOT: ember.cast
// CHECK-NOT: ember.div
// CHECK-NOT: ember.col2im
// CHECK: return
func.func @training(%arg0: tensor<4x3x8x8xf32>, %g: tensor<4x3x4x4xf32>) -> (tensor<4x3x4x4xf32>, tensor<4x3x8x8xf32>) {
  %1 = ember.reshape %arg0 : tensor<4x3x8x8xf32> -> tensor<12x1x8x8xf32>
  %2 = ember.im2col %1 {dilation = array<i64: 1, 1>, kernel = array<i64: 2, 2>, output_size = array<i64: 4, 4>, pad_value = 0xFF800000 : f32, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<12x1x8x8xf32> -> tensor<4x192xf32>
  %3 = ember.amax %2 {dims = array<i64: 0>, keepdim = false} : tensor<4x192xf32> -> tensor<192xf32>
  %4 = ember.reshape %3 : tensor<192xf32> -> tensor<4x3x4x4xf32>
  %9 = ember.reshape %g : tensor<4x3x4x4xf32> -> tensor<192xf32>
  %10 = ember.reshape %9 : tensor<192xf32> -> tensor<1x192xf32>
  %11 = ember.expand %10 : tensor<1x192xf32> -> tensor<4x192xf32>
  %12 = ember.amax %2 {dims = array<i64: 0>, keepdim = true} : tensor<4x192xf32> -> tensor<1x192xf32>
  %13 = ember.eq %2, %12 : tensor<4x192xf32>, tensor<1x192xf32>
  %14 = ember.cast %13 : tensor<4x192xi1> -> tensor<4x192xf32>
  %15 = ember.sum %14 {dims = array<i64: 0>, keepdim = true} : tensor<4x192xf32> -> tensor<1x192xf32>
  %16 = ember.div %11, %15 : tensor<4x192xf32>, tensor<1x192xf32>
  %17 = ember.mul %16, %14 : tensor<4x192xf32>, tensor<4x192xf32>
  %18 = ember.col2im %17 {dilation = array<i64: 1, 1>, kernel = array<i64: 2, 2>, output_size = array<i64: 4, 4>, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<4x192xf32> -> tensor<12x1x8x8xf32>
  %19 = ember.reshape %18 : tensor<12x1x8x8xf32> -> tensor<4x3x8x8xf32>
  return %4, %19 : tensor<4x3x4x4xf32>, tensor<4x3x8x8xf32>
}

// A 1x1 window: one row of columns, so the cotangent needs no expand (and the operands of eq
// and mul come in the other order).
// CHECK-LABEL: func.func @one_row
// CHECK: ember.max_pool2d_grad %arg0, %{{.*}} {{.*}} : tensor<2x1x5x5xf32>, tensor<2x1x3x3xf32> -> tensor<2x1x5x5xf32>
// CHECK-NOT: ember.col2im
func.func @one_row(%x: tensor<2x1x5x5xf32>, %g: tensor<1x18xf32>) -> tensor<2x1x5x5xf32> {
  %c = ember.im2col %x {kernel = array<i64: 1, 1>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 3, 3>, pad_value = 0xFF800000 : f32} : tensor<2x1x5x5xf32> -> tensor<1x18xf32>
  %m = ember.amax %c {dims = array<i64: 0>, keepdim = true} : tensor<1x18xf32> -> tensor<1x18xf32>
  %e = ember.eq %m, %c : tensor<1x18xf32>, tensor<1x18xf32>
  %h = ember.cast %e : tensor<1x18xi1> -> tensor<1x18xf32>
  %n = ember.sum %h {dims = array<i64: 0>, keepdim = true} : tensor<1x18xf32> -> tensor<1x18xf32>
  %q = ember.div %g, %n : tensor<1x18xf32>, tensor<1x18xf32>
  %p = ember.mul %h, %q : tensor<1x18xf32>, tensor<1x18xf32>
  %dx = ember.col2im %p {kernel = array<i64: 1, 1>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 3, 3>} : tensor<1x18xf32> -> tensor<2x1x5x5xf32>
  return %dx : tensor<2x1x5x5xf32>
}

// max_pool2d(return_indices=True): an argmax reads the columns too. The pooling still fuses;
// the columns stay for the argmax.
// CHECK-LABEL: func.func @indices_read_the_columns
// CHECK: %[[C:.*]] = ember.im2col %arg0
// CHECK: ember.max_pool2d %arg0
// CHECK-NOT: ember.amax
// CHECK: ember.argmax %[[C]]
func.func @indices_read_the_columns(%x: tensor<4x1x4x4xf32>) -> (tensor<16xf32>, tensor<16xi64>) {
  %c = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<4x1x4x4xf32> -> tensor<4x16xf32>
  %m = ember.amax %c {dims = array<i64: 0>, keepdim = false} : tensor<4x16xf32> -> tensor<16xf32>
  %i = ember.argmax %c {dim = 0 : i64, keepdim = false} : tensor<4x16xf32> -> tensor<16xi64>
  return %m, %i : tensor<16xf32>, tensor<16xi64>
}

// Left alone: columns padded with zeros (a maximum over padding would read 0, not -inf); an
// image of several channels (dim 0 of its columns spans channels and windows); a reduction
// over another dim; a dynamic batch; a window wholly in the padding (it would hold no pixel).
// (The columns are f32 by construction: ember.im2col takes f32 only.)
// CHECK-LABEL: func.func @not_pooling
// CHECK-NOT: ember.max_pool2d
// CHECK-COUNT-5: ember.amax
// CHECK-NOT: ember.max_pool2d
// CHECK: return
func.func @not_pooling(%x: tensor<4x1x4x4xf32>, %xc: tensor<2x2x4x4xf32>, %xd: tensor<?x1x4x4xf32>, %xs: tensor<1x1x2x2xf32>) -> (tensor<16xf32>, tensor<8xf32>, tensor<4xf32>, tensor<?xf32>, tensor<16xf32>) {
  %z = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>} : tensor<4x1x4x4xf32> -> tensor<4x16xf32>
  %0 = ember.amax %z {dims = array<i64: 0>, keepdim = false} : tensor<4x16xf32> -> tensor<16xf32>
  %c = ember.im2col %xc {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<2x2x4x4xf32> -> tensor<8x8xf32>
  %1 = ember.amax %c {dims = array<i64: 0>, keepdim = false} : tensor<8x8xf32> -> tensor<8xf32>
  %p = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<4x1x4x4xf32> -> tensor<4x16xf32>
  %2 = ember.amax %p {dims = array<i64: 1>, keepdim = false} : tensor<4x16xf32> -> tensor<4xf32>
  %d = ember.im2col %xd {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<?x1x4x4xf32> -> tensor<4x?xf32>
  %3 = ember.amax %d {dims = array<i64: 0>, keepdim = false} : tensor<4x?xf32> -> tensor<?xf32>
  %s = ember.im2col %xs {kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, output_size = array<i64: 4, 4>, pad_value = 0xFF800000 : f32} : tensor<1x1x2x2xf32> -> tensor<1x16xf32>
  %4 = ember.amax %s {dims = array<i64: 0>, keepdim = false} : tensor<1x16xf32> -> tensor<16xf32>
  return %0, %1, %2, %3, %4 : tensor<16xf32>, tensor<8xf32>, tensor<4xf32>, tensor<?xf32>, tensor<16xf32>
}

// A col2im of something other than amax's gradient (here the mask times the cotangent, no
// division: a sum of the maxima's gradients) stays, and so do the columns it reads; the
// forward amax still fuses. So does a gradient scattered with another geometry.
// CHECK-LABEL: func.func @not_the_pooling_gradient
// CHECK: ember.im2col
// CHECK: ember.max_pool2d %arg0
// CHECK-NOT: ember.max_pool2d_grad
// CHECK: ember.col2im
// CHECK-NOT: ember.max_pool2d_grad
// CHECK: ember.col2im
// CHECK-NOT: ember.max_pool2d_grad
// CHECK: return
func.func @not_the_pooling_gradient(%x: tensor<4x1x4x4xf32>, %g: tensor<1x16xf32>) -> (tensor<16xf32>, tensor<4x1x4x4xf32>, tensor<4x1x4x4xf32>) {
  %c = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<4x1x4x4xf32> -> tensor<4x16xf32>
  %m = ember.amax %c {dims = array<i64: 0>, keepdim = false} : tensor<4x16xf32> -> tensor<16xf32>
  %k = ember.amax %c {dims = array<i64: 0>, keepdim = true} : tensor<4x16xf32> -> tensor<1x16xf32>
  %e = ember.eq %c, %k : tensor<4x16xf32>, tensor<1x16xf32>
  %h = ember.cast %e : tensor<4x16xi1> -> tensor<4x16xf32>
  %ge = ember.expand %g : tensor<1x16xf32> -> tensor<4x16xf32>
  %p = ember.mul %ge, %h : tensor<4x16xf32>, tensor<4x16xf32>
  %dx = ember.col2im %p {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>} : tensor<4x16xf32> -> tensor<4x1x4x4xf32>
  %n = ember.sum %h {dims = array<i64: 0>, keepdim = true} : tensor<4x16xf32> -> tensor<1x16xf32>
  %q = ember.div %ge, %n : tensor<4x16xf32>, tensor<1x16xf32>
  %r = ember.mul %q, %h : tensor<4x16xf32>, tensor<4x16xf32>
  %dy = ember.col2im %r {kernel = array<i64: 2, 2>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 2, 2>, output_size = array<i64: 2, 2>} : tensor<4x16xf32> -> tensor<4x1x4x4xf32>
  return %m, %dx, %dy : tensor<16xf32>, tensor<4x1x4x4xf32>, tensor<4x1x4x4xf32>
}

// A constant cotangent (the tracer folds its expand): fused when every row is the same, with
// that row as a [1, L] constant; a constant whose rows differ is not amax's gradient.
// CHECK-LABEL: func.func @constant_cotangents
// CHECK-DAG: %[[SPLAT:.*]] = arith.constant dense<5.000000e-01> : tensor<1x2xf32>
// CHECK-DAG: %[[ROW:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00]]> : tensor<1x2xf32>
// CHECK-DAG: %[[G1:.*]] = ember.reshape %[[ROW]] : tensor<1x2xf32> -> tensor<1x1x1x2xf32>
// CHECK-DAG: %[[G2:.*]] = ember.reshape %[[SPLAT]] : tensor<1x2xf32> -> tensor<1x1x1x2xf32>
// CHECK-DAG: ember.max_pool2d_grad %arg0, %[[G1]]
// CHECK-DAG: ember.max_pool2d_grad %arg0, %[[G2]]
// CHECK: ember.col2im
// CHECK-NOT: ember.col2im
// CHECK: return
func.func @constant_cotangents(%x: tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %same = arith.constant dense<[[1.0, 2.0], [1.0, 2.0]]> : tensor<2x2xf32>
  %splat = arith.constant dense<0.5> : tensor<2x2xf32>
  %differ = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %c = ember.im2col %x {kernel = array<i64: 2, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 1, 2>, pad_value = 0xFF800000 : f32} : tensor<1x1x2x2xf32> -> tensor<2x2xf32>
  %k = ember.amax %c {dims = array<i64: 0>, keepdim = true} : tensor<2x2xf32> -> tensor<1x2xf32>
  %e = ember.eq %c, %k : tensor<2x2xf32>, tensor<1x2xf32>
  %h = ember.cast %e : tensor<2x2xi1> -> tensor<2x2xf32>
  %n = ember.sum %h {dims = array<i64: 0>, keepdim = true} : tensor<2x2xf32> -> tensor<1x2xf32>
  %q1 = ember.div %same, %n : tensor<2x2xf32>, tensor<1x2xf32>
  %r1 = ember.mul %q1, %h : tensor<2x2xf32>, tensor<2x2xf32>
  %d1 = ember.col2im %r1 {kernel = array<i64: 2, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 1, 2>} : tensor<2x2xf32> -> tensor<1x1x2x2xf32>
  %q2 = ember.div %splat, %n : tensor<2x2xf32>, tensor<1x2xf32>
  %r2 = ember.mul %q2, %h : tensor<2x2xf32>, tensor<2x2xf32>
  %d2 = ember.col2im %r2 {kernel = array<i64: 2, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 1, 2>} : tensor<2x2xf32> -> tensor<1x1x2x2xf32>
  %q3 = ember.div %differ, %n : tensor<2x2xf32>, tensor<1x2xf32>
  %r3 = ember.mul %q3, %h : tensor<2x2xf32>, tensor<2x2xf32>
  %d3 = ember.col2im %r3 {kernel = array<i64: 2, 1>, stride = array<i64: 1, 1>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 1, 2>} : tensor<2x2xf32> -> tensor<1x1x2x2xf32>
  return %d1, %d2, %d3 : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}
