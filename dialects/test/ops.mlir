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
