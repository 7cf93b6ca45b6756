// RUN: ember-opt %s --ember-window-to-runtime-call | FileCheck %s

// CHECK-DAG: func.func private @ember_cpu_im2col_f32(memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, f32) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_cpu_col2im_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_cpu_max_pool2d_f32(memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_cpu_max_pool2d_grad_f32(memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_cpu_conv2d_f32(memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) attributes {llvm.emit_c_interface}

// CHECK-LABEL: func.func @conv_columns
func.func @conv_columns(%x: memref<2x3x9x9xf32>, %c: memref<12x50xf32>) {
  // CHECK: %[[X:.*]] = memref.cast %arg0 : memref<2x3x9x9xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
  // CHECK: %[[C:.*]] = memref.cast %arg1 : memref<12x50xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
  // The geometry in order: kernel, stride, padding (top, left), dilation, output size.
  // CHECK: %[[KH:.*]] = arith.constant 2 : i64
  // CHECK: %[[KW:.*]] = arith.constant 2 : i64
  // CHECK: %[[SH:.*]] = arith.constant 2 : i64
  // CHECK: %[[SW:.*]] = arith.constant 2 : i64
  // CHECK: %[[PT:.*]] = arith.constant 1 : i64
  // CHECK: %[[PL:.*]] = arith.constant 0 : i64
  // CHECK: %[[DH:.*]] = arith.constant 1 : i64
  // CHECK: %[[DW:.*]] = arith.constant 3 : i64
  // CHECK: %[[OH:.*]] = arith.constant 5 : i64
  // CHECK: %[[OW:.*]] = arith.constant 5 : i64
  // CHECK: %[[FILL:.*]] = arith.constant 0.000000e+00 : f32
  // CHECK: call @ember_cpu_im2col_f32(%[[X]], %[[C]], %[[KH]], %[[KW]], %[[SH]], %[[SW]], %[[PT]], %[[PL]], %[[DH]], %[[DW]], %[[OH]], %[[OW]], %[[FILL]])
  // CHECK-NOT: ember.im2col
  ember.im2col %x into %c {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32> into memref<12x50xf32>
  return
}

// Max pooling reads -inf outside the image; a strided input is passed as it is.
// CHECK-LABEL: func.func @pool_columns
func.func @pool_columns(%x: memref<4x1x4x4xf32, strided<[32, 16, 4, 1], offset: 8>>, %c: memref<4x16xf32>) {
  // CHECK: memref.cast %arg0 : memref<4x1x4x4xf32, strided<[32, 16, 4, 1], offset: 8>> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
  // CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: call @ember_cpu_im2col_f32({{.*}}, %[[NEGINF]])
  ember.im2col %x into %c {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : memref<4x1x4x4xf32, strided<[32, 16, 4, 1], offset: 8>> into memref<4x16xf32>
  return
}

// CHECK-LABEL: func.func @image_gradient
func.func @image_gradient(%c: memref<12x50xf32>, %x: memref<2x3x9x9xf32>) {
  // CHECK: %[[C:.*]] = memref.cast %arg0 : memref<12x50xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
  // CHECK: %[[X:.*]] = memref.cast %arg1 : memref<2x3x9x9xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
  // CHECK: call @ember_cpu_col2im_f32(%[[C]], %[[X]], {{(%[^,]+, ){9}%[^,)]+}})
  // CHECK-NOT: ember.col2im
  ember.col2im %c into %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : memref<12x50xf32> into memref<2x3x9x9xf32>
  return
}

// The tensor form (before bufferization) is left alone.
// CHECK-LABEL: func.func @tensors
func.func @tensors(%x: tensor<2x3x9x9xf32>) -> tensor<12x50xf32> {
  // CHECK: ember.im2col %arg0
  // CHECK-NOT: call
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  return %0 : tensor<12x50xf32>
}

// The convolution ops: lhs, rhs and output, then the same geometry.
// CHECK-LABEL: func.func @conv_ops
func.func @conv_ops(%x: memref<2x3x9x9xf32>, %w: memref<4x12xf32>, %y: memref<2x4x5x5xf32>, %dw: memref<4x12xf32>, %dx: memref<2x3x9x9xf32>) {
  // CHECK: call @ember_cpu_conv2d_f32(
  // CHECK: call @ember_cpu_conv2d_weight_grad_f32(
  // CHECK: call @ember_cpu_conv2d_input_grad_f32(
  // CHECK-NOT: ember.conv2d
  ember.conv2d %x, %w into %y {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32>, memref<4x12xf32> into memref<2x4x5x5xf32>
  ember.conv2d_weight_grad %x, %y into %dw {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32>, memref<2x4x5x5xf32> into memref<4x12xf32>
  ember.conv2d_input_grad %y, %w into %dx {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : memref<2x4x5x5xf32>, memref<4x12xf32> into memref<2x3x9x9xf32>
  return
}

// The max pooling ops: image and pooled values (or image, cotangent and gradient), then the
// geometry; a strided image is passed as it is.
// CHECK-LABEL: func.func @max_pool_ops
func.func @max_pool_ops(%x: memref<2x3x9x9xf32, strided<[243, 81, 9, 1], offset: 4>>, %y: memref<2x3x5x5xf32>, %dx: memref<2x3x9x9xf32>) {
  // CHECK: %[[X:.*]] = memref.cast %arg0 : memref<2x3x9x9xf32, strided<[243, 81, 9, 1], offset: 4>> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
  // CHECK: %[[Y:.*]] = memref.cast %arg1 : memref<2x3x5x5xf32> to memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>
  // CHECK: call @ember_cpu_max_pool2d_f32(%[[X]], %[[Y]], {{(%[^,]+, ){9}%[^,)]+}})
  // CHECK: %[[X2:.*]] = memref.cast %arg0
  // CHECK: %[[Y2:.*]] = memref.cast %arg1
  // CHECK: %[[DX:.*]] = memref.cast %arg2
  // CHECK: call @ember_cpu_max_pool2d_grad_f32(%[[X2]], %[[Y2]], %[[DX]], {{(%[^,]+, ){9}%[^,)]+}})
  // CHECK-NOT: ember.max_pool2d
  ember.max_pool2d %x into %y {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32, strided<[243, 81, 9, 1], offset: 4>> into memref<2x3x5x5xf32>
  ember.max_pool2d_grad %x, %y into %dx {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32, strided<[243, 81, 9, 1], offset: 4>>, memref<2x3x5x5xf32> into memref<2x3x9x9xf32>
  return
}
