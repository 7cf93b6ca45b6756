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
