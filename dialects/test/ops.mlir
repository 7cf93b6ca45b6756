// RUN: ember-opt %s | ember-opt | FileCheck %s
// Round trip: ember ops parse, verify and print back.

// CHECK-LABEL: func.func @add_same
func.func @add_same(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: ember.add %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
  %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// CHECK-LABEL: func.func @add_broadcast
func.func @add_broadcast(%a: tensor<4x1xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // The result type is inferred from PyTorch's broadcasting rule.
  // CHECK: %[[R:.*]] = ember.add %{{.*}}, %{{.*}} : tensor<4x1xf32>, tensor<3xf32>
  // CHECK: return %[[R]] : tensor<4x3xf32>
  %0 = ember.add %a, %b : tensor<4x1xf32>, tensor<3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @structural
func.func @structural(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %v: tensor<4xf32>) -> tensor<f32> {
  // CHECK: ember.matmul %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x4xf32>
  %0 = ember.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xf32>
  // CHECK: ember.mul
  %1 = ember.mul %0, %v : tensor<2x4xf32>, tensor<4xf32>
  // CHECK: ember.relu_backward
  %2 = ember.relu_backward %1, %0 : tensor<2x4xf32>, tensor<2x4xf32>
  // CHECK: ember.transpose %{{.*}} {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x4xf32> -> tensor<4x2xf32>
  %3 = ember.transpose %2 {dim0 = 0, dim1 = 1} : tensor<2x4xf32> -> tensor<4x2xf32>
  // CHECK: ember.reshape %{{.*}} : tensor<4x2xf32> -> tensor<8xf32>
  %4 = ember.reshape %3 : tensor<4x2xf32> -> tensor<8xf32>
  // CHECK: ember.expand %{{.*}} : tensor<8xf32> -> tensor<3x8xf32>
  %5 = ember.expand %4 : tensor<8xf32> -> tensor<3x8xf32>
  // CHECK: ember.amin %{{.*}} {dims = array<i64: 0>, keepdim = true} : tensor<3x8xf32> -> tensor<1x8xf32>
  %m = ember.amin %5 {dims = array<i64: 0>, keepdim = true} : tensor<3x8xf32> -> tensor<1x8xf32>
  // CHECK: ember.sum %{{.*}} {dims = array<i64>, keepdim = false} : tensor<1x8xf32> -> tensor<f32>
  %6 = ember.sum %m {dims = array<i64>, keepdim = false} : tensor<1x8xf32> -> tensor<f32>
  return %6 : tensor<f32>
}

// CHECK-LABEL: func.func @fusion
func.func @fusion(%x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: ember.fusion %{{.*}} : (tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: ember.yield
  %0 = ember.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %1 = ember.relu %a : tensor<4xf32>
    ember.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// Tests give i1 (the type is inferred); the bitwise records take signless integers, i1 included.
// CHECK-LABEL: func.func @tests_and_bits
func.func @tests_and_bits(%x: tensor<2x3xf32>, %i: tensor<3xi64>, %m: tensor<2x3xi1>) -> tensor<2x3xi1> {
  // CHECK: %[[N:.*]] = ember.isnan %{{.*}} : tensor<2x3xf32>
  %0 = ember.isnan %x : tensor<2x3xf32>
  // CHECK: ember.isfinite %{{.*}} : tensor<2x3xf32>
  %1 = ember.isfinite %x : tensor<2x3xf32>
  // CHECK: ember.logical_and %{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>
  %2 = ember.logical_and %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
  // CHECK: ember.bitwise_left_shift %{{.*}}, %{{.*}} : tensor<3xi64>, tensor<3xi64>
  %3 = ember.bitwise_left_shift %i, %i : tensor<3xi64>, tensor<3xi64>
  // CHECK: ember.bitwise_xor %[[N]], %{{.*}} : tensor<2x3xi1>, tensor<2x3xi1>
  %4 = ember.bitwise_xor %0, %m : tensor<2x3xi1>, tensor<2x3xi1>
  // CHECK: ember.bitwise_not %{{.*}} : tensor<2x3xi1>
  %5 = ember.bitwise_not %4 : tensor<2x3xi1>
  return %5 : tensor<2x3xi1>
}

// Sliding windows: the tensor form (imported) and the memref form (after bufferization).
// CHECK-LABEL: func.func @windows
func.func @windows(%x: tensor<2x3x9x9xf32>, %m: memref<2x3x9x9xf32>, %c: memref<12x50xf32>) -> tensor<2x3x9x9xf32> {
  // CHECK: %[[C:.*]] = ember.im2col %{{.*}} {dilation = array<i64: 1, 3>, kernel = array<i64: 2, 2>, output_size = array<i64: 5, 5>, padding = array<i64: 1, 0>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  // CHECK: ember.col2im %[[C]] {{.*}} : tensor<12x50xf32> -> tensor<2x3x9x9xf32>
  %1 = ember.col2im %0 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<12x50xf32> -> tensor<2x3x9x9xf32>
  // CHECK: ember.im2col %{{.*}} into %{{.*}} {{{.*}}pad_value = 0xFF800000 : f32{{.*}}} : memref<2x3x9x9xf32> into memref<12x50xf32>
  ember.im2col %m into %c {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>, pad_value = 0xFF800000 : f32} : memref<2x3x9x9xf32> into memref<12x50xf32>
  // CHECK: ember.col2im %{{.*}} into %{{.*}} {{.*}} : memref<12x50xf32> into memref<2x3x9x9xf32>
  ember.col2im %c into %m {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : memref<12x50xf32> into memref<2x3x9x9xf32>
  return %1 : tensor<2x3x9x9xf32>
}

// Max pooling and its gradient, both forms.
// CHECK-LABEL: func.func @max_pooling
func.func @max_pooling(%x: tensor<2x3x9x9xf32>, %m: memref<2x3x9x9xf32>, %y: memref<2x3x5x5xf32>) -> tensor<2x3x9x9xf32> {
  // CHECK: %[[Y:.*]] = ember.max_pool2d %{{.*}} {dilation = array<i64: 1, 2>, kernel = array<i64: 2, 3>, output_size = array<i64: 5, 5>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  %0 = ember.max_pool2d %x {kernel = array<i64: 2, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<2x3x5x5xf32>
  // CHECK: ember.max_pool2d_grad %{{.*}}, %[[Y]] {{.*}} : tensor<2x3x9x9xf32>, tensor<2x3x5x5xf32> -> tensor<2x3x9x9xf32>
  %1 = ember.max_pool2d_grad %x, %0 {kernel = array<i64: 2, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<2x3x5x5xf32> -> tensor<2x3x9x9xf32>
  // CHECK: ember.max_pool2d %{{.*}} into %{{.*}} {{.*}} : memref<2x3x9x9xf32> into memref<2x3x5x5xf32>
  ember.max_pool2d %m into %y {kernel = array<i64: 2, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32> into memref<2x3x5x5xf32>
  // CHECK: ember.max_pool2d_grad %{{.*}}, %{{.*}} into %{{.*}} {{.*}} : memref<2x3x9x9xf32>, memref<2x3x5x5xf32> into memref<2x3x9x9xf32>
  ember.max_pool2d_grad %m, %y into %m {kernel = array<i64: 2, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>, dilation = array<i64: 1, 2>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32>, memref<2x3x5x5xf32> into memref<2x3x9x9xf32>
  return %1 : tensor<2x3x9x9xf32>
}

// CHECK-LABEL: func.func @integers_and_indexing
func.func @integers_and_indexing(%x: tensor<4x3xf32>, %t: tensor<4xi64>, %w: tensor<10x3xf32>)
    -> (tensor<4x3xf32>, tensor<10x3xf32>, tensor<4x1xf32>, tensor<4x3xf32>, tensor<4xi64>, tensor<i64>) {
  // CHECK: ember.add %{{.*}}, %{{.*}} : tensor<4xi64>, tensor<4xi64>
  %s = ember.add %t, %t : tensor<4xi64>, tensor<4xi64>
  // CHECK: ember.lt %{{.*}}, %{{.*}} : tensor<4xi64>, tensor<4xi64>
  %m = ember.lt %t, %s : tensor<4xi64>, tensor<4xi64>
  // CHECK: ember.cast %{{.*}} : tensor<4xi1> -> tensor<4xi64>
  %c = ember.cast %m : tensor<4xi1> -> tensor<4xi64>
  // CHECK: ember.where %{{.*}}, %{{.*}}, %{{.*}} : tensor<4xi1>, tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  %safe = ember.where %m, %t, %c : tensor<4xi1>, tensor<4xi64>, tensor<4xi64> -> tensor<4xi64>
  // CHECK: ember.index_select %{{.*}}, %{{.*}} {dim = 0 : i64} : tensor<10x3xf32>, tensor<4xi64> -> tensor<4x3xf32>
  %rows = ember.index_select %w, %safe {dim = 0 : i64} : tensor<10x3xf32>, tensor<4xi64> -> tensor<4x3xf32>
  // CHECK: ember.index_add %{{.*}}, %{{.*}} {dim = 0 : i64, size = 10 : i64} : tensor<4x3xf32>, tensor<4xi64> -> tensor<10x3xf32>
  %gw = ember.index_add %rows, %safe {dim = 0 : i64, size = 10 : i64} : tensor<4x3xf32>, tensor<4xi64> -> tensor<10x3xf32>
  // CHECK: ember.reshape %{{.*}} : tensor<4xi64> -> tensor<4x1xi64>
  %col = ember.reshape %safe : tensor<4xi64> -> tensor<4x1xi64>
  // CHECK: ember.gather %{{.*}}, %{{.*}} {dim = 1 : i64} : tensor<4x3xf32>, tensor<4x1xi64> -> tensor<4x1xf32>
  %picked = ember.gather %x, %col {dim = 1 : i64} : tensor<4x3xf32>, tensor<4x1xi64> -> tensor<4x1xf32>
  // CHECK: ember.scatter_add %{{.*}}, %{{.*}}, %{{.*}} {dim = 1 : i64} : tensor<4x3xf32>, tensor<4x1xi64>, tensor<4x1xf32> -> tensor<4x3xf32>
  %sa = ember.scatter_add %x, %col, %picked {dim = 1 : i64} : tensor<4x3xf32>, tensor<4x1xi64>, tensor<4x1xf32> -> tensor<4x3xf32>
  // CHECK: ember.argmax %{{.*}} {dim = 1 : i64, keepdim = false} : tensor<4x3xf32> -> tensor<4xi64>
  %am = ember.argmax %x {dim = 1 : i64, keepdim = false} : tensor<4x3xf32> -> tensor<4xi64>
  // CHECK: ember.sum %{{.*}} {dims = array<i64>, keepdim = false} : tensor<4xi64> -> tensor<i64>
  %n = ember.sum %c {dims = array<i64>, keepdim = false} : tensor<4xi64> -> tensor<i64>
  return %rows, %gw, %picked, %sa, %am, %n : tensor<4x3xf32>, tensor<10x3xf32>, tensor<4x1xf32>, tensor<4x3xf32>, tensor<4xi64>, tensor<i64>
}

// Dynamic batch dims (ember.compile(dynamic=True)) verify: reshape, slice of another dim, cat
// along the dynamic dim, gather/index_select with a dynamic index.
// CHECK-LABEL: func.func @dynamic_dims
func.func @dynamic_dims(%x: tensor<?x4xf32>, %i: tensor<?x1xi64>, %j: tensor<?xi64>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>, tensor<?x1xf32>, tensor<?x4xf32>) {
  // CHECK: ember.reshape %{{.*}} : tensor<?x4xf32> -> tensor<?x2xf32>
  %0 = ember.reshape %x : tensor<?x4xf32> -> tensor<?x2xf32>
  // CHECK: ember.slice
  %1 = ember.slice %x {dim = 1 : i64, start = 0 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x4xf32> -> tensor<?x2xf32>
  // CHECK: ember.cat
  %2 = ember.cat %x, %x {dim = 0 : i64} : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
  // CHECK: ember.gather
  %3 = ember.gather %x, %i {dim = 1 : i64} : tensor<?x4xf32>, tensor<?x1xi64> -> tensor<?x1xf32>
  // CHECK: ember.index_select
  %4 = ember.index_select %x, %j {dim = 0 : i64} : tensor<?x4xf32>, tensor<?xi64> -> tensor<?x4xf32>
  return %0, %1, %2, %3, %4 : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x4xf32>, tensor<?x1xf32>, tensor<?x4xf32>
}

// prod (a reduction), cumsum / cumprod (scans: the input's type), unfold, and argsort in its
// tensor form (topk's shorter dim included) and its memref form (after bufferization).
// CHECK-LABEL: func.func @scans_unfold_sort
func.func @scans_unfold_sort(%x: tensor<3x8xf32>, %i: tensor<?x5xi64>, %b: tensor<4xi1>) -> (tensor<3x1xf32>, tensor<3x8xf32>, tensor<?x5xi64>, tensor<3x3x4xf32>, tensor<3x8xi64>, tensor<?x2xi64>, tensor<4xi64>) {
  // CHECK: ember.prod %{{.*}} {dims = array<i64: 1>, keepdim = true} : tensor<3x8xf32> -> tensor<3x1xf32>
  %0 = ember.prod %x {dims = array<i64: 1>, keepdim = true} : tensor<3x8xf32> -> tensor<3x1xf32>
  // CHECK: ember.cumsum %{{.*}} {dim = 1 : i64, reverse = true} : tensor<3x8xf32>
  %1 = ember.cumsum %x {dim = 1 : i64, reverse = true} : tensor<3x8xf32>
  // CHECK: ember.cumprod %{{.*}} {dim = 0 : i64} : tensor<?x5xi64>
  %2 = ember.cumprod %i {dim = 0 : i64} : tensor<?x5xi64>
  // CHECK: ember.unfold %{{.*}} {dim = 1 : i64, size = 4 : i64, step = 2 : i64} : tensor<3x8xf32> -> tensor<3x3x4xf32>
  %3 = ember.unfold %x {dim = 1 : i64, size = 4 : i64, step = 2 : i64} : tensor<3x8xf32> -> tensor<3x3x4xf32>
  // CHECK: ember.argsort %{{.*}} {descending = false, dim = 0 : i64} : tensor<3x8xf32> -> tensor<3x8xi64>
  %4 = ember.argsort %x {dim = 0 : i64, descending = false} : tensor<3x8xf32> -> tensor<3x8xi64>
  // CHECK: ember.argsort %{{.*}} {descending = true, dim = 1 : i64} : tensor<?x5xi64> -> tensor<?x2xi64>
  %5 = ember.argsort %i {dim = 1 : i64, descending = true} : tensor<?x5xi64> -> tensor<?x2xi64>
  // CHECK: ember.argsort %{{.*}} {descending = false, dim = 0 : i64} : tensor<4xi1> -> tensor<4xi64>
  %6 = ember.argsort %b {dim = 0 : i64, descending = false} : tensor<4xi1> -> tensor<4xi64>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<3x1xf32>, tensor<3x8xf32>, tensor<?x5xi64>, tensor<3x3x4xf32>, tensor<3x8xi64>, tensor<?x2xi64>, tensor<4xi64>
}

// CHECK-LABEL: func.func @argsort_memref
func.func @argsort_memref(%x: memref<3x8xf32, strided<[1, 3]>>, %o: memref<3x8xi64>) {
  // CHECK: ember.argsort %{{.*}} into %{{.*}} {descending = false, dim = 1 : i64} : memref<3x8xf32, strided<[1, 3]>> into memref<3x8xi64>
  ember.argsort %x into %o {dim = 1 : i64, descending = false} : memref<3x8xf32, strided<[1, 3]>> into memref<3x8xi64>
  return
}
