// RUN: ember-import mlp | FileCheck %s --check-prefix=FWD
// RUN: ember-import mlp-train-step | FileCheck %s --check-prefix=STEP
// The importer maps each traced node to its ember op, keyed by primitive.

// FWD-LABEL: func.func @main(%arg0: tensor<8x5xf32>, %arg1: tensor<5x16xf32>, %arg2: tensor<16xf32>, %arg3: tensor<16x3xf32>) -> tensor<8x3xf32>
// FWD: %[[MM:.*]] = ember.matmul %arg0, %arg1 : tensor<8x5xf32>, tensor<5x16xf32>
// FWD: %[[ADD:.*]] = ember.add %[[MM]], %arg2 : tensor<8x16xf32>, tensor<16xf32>
// FWD: %[[R:.*]] = ember.relu %[[ADD]] : tensor<8x16xf32>
// FWD: %[[OUT:.*]] = ember.matmul %[[R]], %arg3
// FWD: return %[[OUT]] : tensor<8x3xf32>

// The training step: forward, the VJP rules' ops (transpose, relu_backward, sum, reshape),
// and the SGD update, in one function returning the loss and the new parameters.
// STEP-LABEL: func.func @main
// STEP-SAME: -> (tensor<f32>, tensor<5x16xf32>, tensor<16xf32>, tensor<16x3xf32>)
// STEP-DAG: arith.constant dense<1.000000e+00> : tensor<8x3xf32>
// STEP-DAG: arith.constant dense<-1.000000e-01> : tensor<f32>
// STEP: ember.sum %{{.*}} {dims = array<i64>, keepdim = false} : tensor<8x3xf32> -> tensor<f32>
// STEP: ember.relu_backward
// STEP: ember.sum %{{.*}} {dims = array<i64: 0>, keepdim = true} : tensor<8x16xf32> -> tensor<1x16xf32>
// STEP: ember.reshape %{{.*}} : tensor<1x16xf32> -> tensor<16xf32>
// STEP: return
