// RUN: ember-opt %s --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s
// ember.im2col / ember.col2im bufferize themselves: the input's buffer is read and the result
// is written into a new buffer (the memref form).

// CHECK-LABEL: func.func @conv_columns
// CHECK-SAME: (%[[X:.*]]: memref<2x3x9x9xf32>) -> memref<2x3x9x9xf32>
func.func @conv_columns(%x: tensor<2x3x9x9xf32>) -> tensor<2x3x9x9xf32> {
  // CHECK: %[[C:.*]] = memref.alloc() {{.*}}: memref<12x50xf32>
  // CHECK: ember.im2col %[[X]] into %[[C]] {{.*}} : memref<2x3x9x9xf32> into memref<12x50xf32>
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  // CHECK: %[[I:.*]] = memref.alloc() {{.*}}: memref<2x3x9x9xf32>
  // CHECK: ember.col2im %[[C]] into %[[I]] {{.*}} : memref<12x50xf32> into memref<2x3x9x9xf32>
  %1 = ember.col2im %0 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<12x50xf32> -> tensor<2x3x9x9xf32>
  // CHECK: return %[[I]]
  return %1 : tensor<2x3x9x9xf32>
}

// A dynamic batch (ember.compile(dynamic=True)): the columns' length is N*oh*ow, the image's
// batch the columns' length / (oh*ow), both read from the input buffer.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK-SAME: (%[[X:.*]]: memref<?x3x9x9xf32>) -> memref<?x3x9x9xf32>
func.func @dynamic_batch(%x: tensor<?x3x9x9xf32>) -> tensor<?x3x9x9xf32> {
  // CHECK-DAG: %[[PER:.*]] = arith.constant 25 : index
  // CHECK-DAG: %[[N:.*]] = memref.dim %[[X]], %{{.*}} : memref<?x3x9x9xf32>
  // CHECK: %[[LEN:.*]] = arith.muli %[[N]], %[[PER]] : index
  // CHECK: %[[C:.*]] = memref.alloc(%[[LEN]]) {{.*}}: memref<12x?xf32>
  // CHECK: ember.im2col %[[X]] into %[[C]] {{.*}} : memref<?x3x9x9xf32> into memref<12x?xf32>
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<?x3x9x9xf32> -> tensor<12x?xf32>
  // CHECK: %[[L:.*]] = memref.dim %[[C]], %{{.*}} : memref<12x?xf32>
  // CHECK: %[[B:.*]] = arith.divui %[[L]], %{{.*}} : index
  // CHECK: %[[I:.*]] = memref.alloc(%[[B]]) {{.*}}: memref<?x3x9x9xf32>
  // CHECK: ember.col2im %[[C]] into %[[I]] {{.*}} : memref<12x?xf32> into memref<?x3x9x9xf32>
  %1 = ember.col2im %0 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<12x?xf32> -> tensor<?x3x9x9xf32>
  return %1 : tensor<?x3x9x9xf32>
}

// ember.argsort bufferizes the same way: the input's buffer read, a new i64 buffer written; a
// dynamic dim of the result is the input's.
// CHECK-LABEL: func.func @argsort
// CHECK-SAME: (%[[X:.*]]: memref<?x7xf32>) -> memref<?x3xi64>
func.func @argsort(%x: tensor<?x7xf32>) -> tensor<?x3xi64> {
  // CHECK: %[[N:.*]] = memref.dim %[[X]], %{{.*}} : memref<?x7xf32>
  // CHECK: %[[O:.*]] = memref.alloc(%[[N]]) {{.*}}: memref<?x3xi64>
  // CHECK: ember.argsort %[[X]] into %[[O]] {descending = true, dim = 1 : i64} : memref<?x7xf32> into memref<?x3xi64>
  %0 = ember.argsort %x {dim = 1 : i64, descending = true} : tensor<?x7xf32> -> tensor<?x3xi64>
  // CHECK: return %[[O]]
  return %0 : tensor<?x3xi64>
}

// The convolution ops read both inputs' buffers and write a new one.
// CHECK-LABEL: func.func @conv_ops
// CHECK-SAME: (%[[X:.*]]: memref<2x3x9x9xf32>, %[[W:.*]]: memref<4x12xf32>)
func.func @conv_ops(%x: tensor<2x3x9x9xf32>, %w: tensor<4x12xf32>) -> (tensor<4x12xf32>, tensor<2x3x9x9xf32>) {
  // CHECK: %[[Y:.*]] = memref.alloc() {{.*}}: memref<2x4x5x5xf32>
  // CHECK: ember.conv2d %[[X]], %[[W]] into %[[Y]] {{.*}} : memref<2x3x9x9xf32>, memref<4x12xf32> into memref<2x4x5x5xf32>
  %y = ember.conv2d %x, %w {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<4x12xf32> -> tensor<2x4x5x5xf32>
  // CHECK: %[[DW:.*]] = memref.alloc() {{.*}}: memref<4x12xf32>
  // CHECK: ember.conv2d_weight_grad %[[X]], %[[Y]] into %[[DW]]
  %dw = ember.conv2d_weight_grad %x, %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<2x4x5x5xf32> -> tensor<4x12xf32>
  // CHECK: %[[DX:.*]] = memref.alloc() {{.*}}: memref<2x3x9x9xf32>
  // CHECK: ember.conv2d_input_grad %[[Y]], %[[W]] into %[[DX]]
  %dx = ember.conv2d_input_grad %y, %w {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x4x5x5xf32>, tensor<4x12xf32> -> tensor<2x3x9x9xf32>
  return %dw, %dx : tensor<4x12xf32>, tensor<2x3x9x9xf32>
}

// The max pooling ops: the image's (and the cotangent's) buffers read, a new one written.
// CHECK-LABEL: func.func @max_pool_ops
// CHECK-SAME: (%[[X:.*]]: memref<2x3x9x9xf32>)
func.func @max_pool_ops(%x: tensor<2x3x9x9xf32>) -> (tensor<2x3x5x5xf32>, tensor<2x3x9x9xf32>) {
  // CHECK: %[[Y:.*]] = memref.alloc() {{.*}}: memref<2x3x5x5xf32>
  // CHECK: ember.max_pool2d %[[X]] into %[[Y]] {{.*}} : memref<2x3x9x9xf32> into memref<2x3x5x5xf32>
  %y = ember.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  // CHECK: %[[DX:.*]] = memref.alloc() {{.*}}: memref<2x3x9x9xf32>
  // CHECK: ember.max_pool2d_grad %[[X]], %[[Y]] into %[[DX]] {{.*}} : memref<2x3x9x9xf32>, memref<2x3x5x5xf32> into memref<2x3x9x9xf32>
  %dx = ember.max_pool2d_grad %x, %y {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<2x3x5x5xf32> -> tensor<2x3x9x9xf32>
  // CHECK: return %[[Y]], %[[DX]]
  return %y, %dx : tensor<2x3x5x5xf32>, tensor<2x3x9x9xf32>
}
