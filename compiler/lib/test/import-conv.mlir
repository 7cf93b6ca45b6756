// RUN: ember-import conv-pool | FileCheck %s
// Convolution imports as ember.im2col + ember.matmul, max pooling as ember.im2col reading -inf
// outside the image + ember.amax over the window entries.

// CHECK-LABEL: func.func @main(%arg0: tensor<2x3x8x8xf32>, %arg1: tensor<4x3x3x3xf32>, %arg2: tensor<4xf32>) -> tensor<2x4x4x4xf32>
// CHECK: %[[W:.*]] = ember.reshape %arg1 : tensor<4x3x3x3xf32> -> tensor<4x27xf32>
// CHECK: %[[COLS:.*]] = ember.im2col %arg0 {dilation = array<i64: 1, 1>, kernel = array<i64: 3, 3>, output_size = array<i64: 8, 8>, padding = array<i64: 1, 1>, stride = array<i64: 1, 1>} : tensor<2x3x8x8xf32> -> tensor<27x128xf32>
// CHECK: ember.matmul %[[W]], %[[COLS]] : tensor<4x27xf32>, tensor<27x128xf32>
// CHECK: ember.relu
// CHECK: %[[POOL:.*]] = ember.im2col %{{.*}} {dilation = array<i64: 1, 1>, kernel = array<i64: 2, 2>, output_size = array<i64: 4, 4>, pad_value = 0xFF800000 : f32, padding = array<i64: 0, 0>, stride = array<i64: 2, 2>} : tensor<8x1x8x8xf32> -> tensor<4x128xf32>
// CHECK: ember.amax %[[POOL]] {dims = array<i64: 0>, keepdim = false} : tensor<4x128xf32> -> tensor<128xf32>
