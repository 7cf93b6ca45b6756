// RUN: ember-opt %s --pass-pipeline='builtin.module(func.func(ember-fuse-conv))' | FileCheck %s
// The three matmul chains of a traced convolution become the conv ops; anything else stays.

// Forward: the matmul of a weight with zero-padded columns; its [O, N*L] result is rebuilt
// from the conv's [N, O, oh, ow] (reshape, permute, reshape); the columns disappear.
// CHECK-LABEL: func.func @forward
// CHECK-NOT: ember.im2col
// CHECK: %[[Y:.*]] = ember.conv2d %arg0, %arg1 {dilation = array<i64: 1, 3>, kernel = array<i64: 2, 2>, output_size = array<i64: 5, 5>, padding = array<i64: 1, 0>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32>, tensor<4x12xf32> -> tensor<2x4x5x5xf32>
// CHECK: %[[R:.*]] = ember.reshape %[[Y]] : tensor<2x4x5x5xf32> -> tensor<2x4x25xf32>
// CHECK: %[[P:.*]] = ember.permute %[[R]] {dims = array<i64: 1, 0, 2>} : tensor<2x4x25xf32> -> tensor<4x2x25xf32>
// CHECK: %[[C:.*]] = ember.reshape %[[P]] : tensor<4x2x25xf32> -> tensor<4x50xf32>
// CHECK-NOT: ember.matmul
// CHECK: return %[[C]]
func.func @forward(%x: tensor<2x3x9x9xf32>, %w: tensor<4x12xf32>) -> tensor<4x50xf32> {
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  %1 = ember.matmul %w, %0 : tensor<4x12xf32>, tensor<12x50xf32>
  return %1 : tensor<4x50xf32>
}

// Training: forward, weight gradient (g @ cols^T) and input gradient (col2im(w^T @ g)) share
// the columns; all three fuse and the columns go.
// CHECK-LABEL: func.func @training
// CHECK-NOT: ember.im2col
// CHECK-NOT: ember.transpose
// CHECK: %[[G:.*]] = ember.reshape %arg2 : tensor<4x50xf32> -> tensor<4x2x25xf32>
// CHECK: %[[GP:.*]] = ember.permute %[[G]] {dims = array<i64: 1, 0, 2>} : tensor<4x2x25xf32> -> tensor<2x4x25xf32>
// CHECK: %[[G4:.*]] = ember.reshape %[[GP]] : tensor<2x4x25xf32> -> tensor<2x4x5x5xf32>
// CHECK: ember.conv2d %arg0, %arg1
// CHECK: ember.conv2d_weight_grad %arg0, %[[G4]] {{.*}} : tensor<2x3x9x9xf32>, tensor<2x4x5x5xf32> -> tensor<4x12xf32>
// CHECK: ember.conv2d_input_grad %[[G4]], %arg1 {{.*}} : tensor<2x4x5x5xf32>, tensor<4x12xf32> -> tensor<2x3x9x9xf32>
// CHECK-NOT: ember.matmul
// CHECK-NOT: ember.col2im
// CHECK-NOT: ember.transpose
func.func @training(%x: tensor<2x3x9x9xf32>, %w: tensor<4x12xf32>, %g: tensor<4x50xf32>) -> (tensor<4x50xf32>, tensor<4x12xf32>, tensor<2x3x9x9xf32>) {
  %c = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  %y = ember.matmul %w, %c : tensor<4x12xf32>, tensor<12x50xf32>
  %ct = ember.transpose %c {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<12x50xf32> -> tensor<50x12xf32>
  %dw = ember.matmul %g, %ct : tensor<4x50xf32>, tensor<50x12xf32>
  %wt = ember.transpose %w {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<4x12xf32> -> tensor<12x4xf32>
  %dc = ember.matmul %wt, %g : tensor<12x4xf32>, tensor<4x50xf32>
  %dx = ember.col2im %dc {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<12x50xf32> -> tensor<2x3x9x9xf32>
  return %y, %dw, %dx : tensor<4x50xf32>, tensor<4x12xf32>, tensor<2x3x9x9xf32>
}

// Left alone: max pooling's columns (-inf outside), a matmul of columns that feed something
// else too (the columns stay for it), a dynamic batch.
// CHECK-LABEL: func.func @not_convolutions
// CHECK: ember.im2col %arg0 {{.*}}pad_value = 0xFF800000
// CHECK: ember.matmul
// CHECK: %[[C:.*]] = ember.im2col %arg0
// CHECK: ember.conv2d %arg0
// CHECK: ember.amax %[[C]]
// CHECK-LABEL: func.func @dynamic
// CHECK: ember.im2col
// CHECK: ember.matmul
func.func @not_convolutions(%x: tensor<2x3x9x9xf32>, %w: tensor<4x12xf32>) -> (tensor<4x50xf32>, tensor<4x50xf32>, tensor<1x50xf32>) {
  %p = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>, pad_value = 0xFF800000 : f32} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  %0 = ember.matmul %w, %p : tensor<4x12xf32>, tensor<12x50xf32>
  %c = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  %1 = ember.matmul %w, %c : tensor<4x12xf32>, tensor<12x50xf32>
  %2 = ember.amax %c {dims = array<i64: 0>, keepdim = true} : tensor<12x50xf32> -> tensor<1x50xf32>
  return %0, %1, %2 : tensor<4x50xf32>, tensor<4x50xf32>, tensor<1x50xf32>
}

func.func @dynamic(%x: tensor<?x3x9x9xf32>, %w: tensor<4x12xf32>) -> tensor<4x?xf32> {
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<?x3x9x9xf32> -> tensor<12x?xf32>
  %1 = ember.matmul %w, %0 : tensor<4x12xf32>, tensor<12x?xf32>
  return %1 : tensor<4x?xf32>
}
