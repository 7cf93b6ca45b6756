// RUN: ember-opt %s --pass-pipeline="builtin.module(func.func(ember-fuse-elementwise))" | FileCheck %s

// add + relu: one kernel; the broadcast bias is an input of the fusion.
// CHECK-LABEL: func.func @bias_relu
func.func @bias_relu(%x: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  // CHECK: %[[F:.*]] = ember.fusion %arg0, %arg1 : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32> {
  // CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<8x16xf32>, %[[B:.*]]: tensor<16xf32>):
  // CHECK-NEXT:   %[[A:.*]] = ember.add %[[X]], %[[B]]
  // CHECK-NEXT:   %[[R:.*]] = ember.relu %[[A]]
  // CHECK-NEXT:   ember.yield %[[R]] : tensor<8x16xf32>
  // CHECK: return %[[F]]
  %0 = ember.add %x, %b : tensor<8x16xf32>, tensor<16xf32>
  %1 = ember.relu %0 : tensor<8x16xf32>
  return %1 : tensor<8x16xf32>
}

// An SGD update w + lr * g: the scalar lr is an input, mul and add fuse.
// CHECK-LABEL: func.func @sgd_update
func.func @sgd_update(%w: tensor<5x16xf32>, %g: tensor<5x16xf32>, %lr: tensor<f32>) -> tensor<5x16xf32> {
  // CHECK: ember.fusion %arg2, %arg1, %arg0
  // CHECK: ember.mul
  // CHECK: ember.add
  // CHECK-NOT: ember.fusion
  %0 = ember.mul %lr, %g : tensor<f32>, tensor<5x16xf32>
  %1 = ember.add %w, %0 : tensor<5x16xf32>, tensor<5x16xf32>
  return %1 : tensor<5x16xf32>
}

// A producer with a second user stays outside (its value must reach memory anyway), and
// a producer of another shape is not pulled in.
// CHECK-LABEL: func.func @not_fused
func.func @not_fused(%x: tensor<4x4xf32>, %v: tensor<4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  // CHECK: %[[A:.*]] = ember.add %arg0, %arg0
  // CHECK: %[[S:.*]] = ember.relu %arg1 : tensor<4xf32>
  // CHECK: ember.fusion %[[A]], %[[S]]
  // CHECK-NOT: ember.fusion
  %0 = ember.add %x, %x : tensor<4x4xf32>, tensor<4x4xf32>
  %s = ember.relu %v : tensor<4xf32>
  %1 = ember.mul %0, %s : tensor<4x4xf32>, tensor<4xf32>
  %2 = ember.relu %1 : tensor<4x4xf32>
  return %0, %2 : tensor<4x4xf32>, tensor<4x4xf32>
}

// A lone elementwise op is left alone.
// CHECK-LABEL: func.func @single
func.func @single(%x: tensor<3xf32>) -> tensor<3xf32> {
  // CHECK-NOT: ember.fusion
  // CHECK: ember.relu
  %0 = ember.relu %x : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// A comparison (i1) and the select that consumes it fuse with float math: groups match shapes,
// not element types.
// CHECK-LABEL: func.func @mask
func.func @mask(%x: tensor<4x4xf32>, %y: tensor<4x4xf32>) -> tensor<4x4xf32> {
  // CHECK: ember.fusion %arg0, %arg1
  // CHECK: ember.gt
  // CHECK: ember.where
  // CHECK-NOT: ember.fusion
  %c = ember.gt %x, %y : tensor<4x4xf32>, tensor<4x4xf32>
  %e = ember.exp %x : tensor<4x4xf32>
  %w = ember.where %c, %x, %e : tensor<4x4xi1>, tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  return %w : tensor<4x4xf32>
}

// A dynamic batch: the fusion keeps its root's sizes (ember.dim_sizes) for the lowering.
// CHECK-LABEL: func.func @dynamic_batch
func.func @dynamic_batch(%x: tensor<?x16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  // CHECK: ember.fusion %arg0, %arg1 {ember.dim_sizes = array<i64: 0, 1, 16, 0>} : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %0 = ember.add %x, %b : tensor<?x16xf32>, tensor<16xf32>
  %1 = ember.relu %0 {ember.dim_sizes = array<i64: 0, 1, 16, 0>} : tensor<?x16xf32>
  return %1 : tensor<?x16xf32>
}
