// RUN: ember-opt %s --canonicalize | FileCheck %s
// The view ops' folders: a reshape to its own type, a reshape of a reshape, the identity
// permutation, a permute of a permute, and a transpose undoing a transpose fold away; what the
// folds cannot prove (dynamic shapes, a different permutation) stays.

// The chain ember-fuse-conv leaves between an NCHW convolution and its column layout and back.
// CHECK-LABEL: func.func @permute_round_trip
// CHECK-NOT: ember.permute
// CHECK-NOT: ember.reshape
// CHECK: return %arg0
func.func @permute_round_trip(%x: tensor<4x6x7x7xf32>) -> tensor<4x6x7x7xf32> {
  %0 = ember.reshape %x : tensor<4x6x7x7xf32> -> tensor<4x6x49xf32>
  %1 = ember.permute %0 {dims = array<i64: 1, 0, 2>} : tensor<4x6x49xf32> -> tensor<6x4x49xf32>
  %2 = ember.reshape %1 : tensor<6x4x49xf32> -> tensor<6x196xf32>
  %3 = ember.reshape %2 : tensor<6x196xf32> -> tensor<6x4x49xf32>
  %4 = ember.permute %3 {dims = array<i64: 1, 0, 2>} : tensor<6x4x49xf32> -> tensor<4x6x49xf32>
  %5 = ember.reshape %4 : tensor<4x6x49xf32> -> tensor<4x294xf32>
  %6 = ember.reshape %5 : tensor<4x294xf32> -> tensor<4x6x7x7xf32>
  return %6 : tensor<4x6x7x7xf32>
}

// Two permutes compose into one.
// CHECK-LABEL: func.func @permutes_compose
// CHECK: %[[P:.*]] = ember.permute %arg0 {dims = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[P]]
func.func @permutes_compose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = ember.permute %x {dims = array<i64: 1, 0, 2>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = ember.permute %0 {dims = array<i64: 2, 1, 0>} : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %1 : tensor<4x2x3xf32>
}

// CHECK-LABEL: func.func @transposes
// CHECK-NEXT: %[[T:.*]] = ember.transpose %arg0 {dim0 = 0 : i64, dim1 = 2 : i64}
// CHECK-NEXT: return %arg0, %[[T]]
func.func @transposes(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<4x3x2xf32>) {
  %0 = ember.transpose %x {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %1 = ember.transpose %0 {dim0 = 1 : i64, dim1 = 0 : i64} : tensor<3x2x4xf32> -> tensor<2x3x4xf32>
  %2 = ember.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : tensor<2x3x4xf32> -> tensor<4x3x2xf32>
  return %1, %2 : tensor<2x3x4xf32>, tensor<4x3x2xf32>
}

// Dynamic shapes: reshapes stay (their sizes live in ember.dim_sizes).
// CHECK-LABEL: func.func @dynamic_reshapes_stay
// CHECK: ember.reshape
// CHECK: ember.reshape
func.func @dynamic_reshapes_stay(%x: tensor<?x6xf32>) -> tensor<?x2x3xf32> {
  %0 = ember.reshape %x : tensor<?x6xf32> -> tensor<?x3x2xf32>
  %1 = ember.reshape %0 : tensor<?x3x2xf32> -> tensor<?x2x3xf32>
  return %1 : tensor<?x2x3xf32>
}
