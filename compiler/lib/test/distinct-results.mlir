// RUN: ember-opt %s --pass-pipeline='builtin.module(func.func(ember-distinct-results))' | FileCheck %s

// The second and third occurrences of a result are copies; distinct results and the first
// occurrence stay as they are.
// CHECK-LABEL: func.func @twice
// CHECK: %[[V:.*]] = arith.mulf
// CHECK: %[[C1:.*]] = bufferization.alloc_tensor() copy(%[[V]])
// CHECK: %[[C2:.*]] = bufferization.alloc_tensor() copy(%[[V]])
// CHECK: return %[[V]], %arg0, %[[C1]], %[[C2]]
func.func @twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %v = arith.mulf %x, %x : tensor<4xf32>
  return %v, %x, %v, %v : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// A dynamic tensor's copy takes its sizes from what it copies.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[D:.*]] = bufferization.alloc_tensor() copy(%arg0) : tensor<?x3xf32>
// CHECK: return %arg0, %[[D]]
func.func @dynamic(%x: tensor<?x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  return %x, %x : tensor<?x3xf32>, tensor<?x3xf32>
}

// Nothing repeated: unchanged.
// CHECK-LABEL: func.func @distinct
// CHECK-NOT: bufferization.alloc_tensor
// CHECK: return %arg0, %arg1
func.func @distinct(%x: tensor<2xi64>, %y: tensor<2xi64>) -> (tensor<2xi64>, tensor<2xi64>) {
  return %x, %y : tensor<2xi64>, tensor<2xi64>
}
