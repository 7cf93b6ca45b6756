// RUN: ember-import embed-ce-grad | FileCheck %s
// Integer values in the import: int64 ids and class indices are i64 arguments; embedding is an
// index_select (its gradient an index_add), cross_entropy picks the target's log-probability
// with a gather (its gradient a scatter_add); ignore_index is an i64 comparison.

// CHECK-LABEL: func.func @main(%arg0: tensor<6xi64>, %arg1: tensor<10x4xf32>, %arg2: tensor<4x5xf32>, %arg3: tensor<6xi64>)
// CHECK-SAME: -> (tensor<f32>, tensor<10x4xf32>, tensor<4x5xf32>)
// CHECK-DAG: %[[IGNORE:.*]] = arith.constant dense<-100> : tensor<i64>
// CHECK-DAG: %[[ZEROS:.*]] = arith.constant dense<0> : tensor<6xi64>
// CHECK: %[[IDS:.*]] = ember.reshape %arg0 : tensor<6xi64> -> tensor<6xi64>
// CHECK: ember.index_select %arg1, %[[IDS]] {dim = 0 : i64} : tensor<10x4xf32>, tensor<6xi64> -> tensor<6x4xf32>
// CHECK: %[[T:.*]] = ember.reshape %arg3 : tensor<6xi64> -> tensor<6xi64>
// CHECK: %[[VALID:.*]] = ember.ne %[[T]], %[[IGNORE]] : tensor<6xi64>, tensor<i64>
// CHECK: %[[SAFE:.*]] = ember.where %[[VALID]], %[[T]], %[[ZEROS]] : tensor<6xi1>, tensor<6xi64>, tensor<6xi64> -> tensor<6xi64>
// CHECK: %[[COL:.*]] = ember.reshape %[[SAFE]] : tensor<6xi64> -> tensor<6x1xi64>
// CHECK: ember.gather %{{.*}}, %[[COL]] {dim = 1 : i64} : tensor<6x5xf32>, tensor<6x1xi64> -> tensor<6x1xf32>
// CHECK: ember.cast %[[VALID]] : tensor<6xi1> -> tensor<6xf32>
// CHECK: ember.scatter_add %{{.*}}, %[[COL]], %{{.*}} {dim = 1 : i64} : tensor<6x5xf32>, tensor<6x1xi64>, tensor<6x1xf32> -> tensor<6x5xf32>
// CHECK: %[[GT:.*]] = ember.index_add %{{.*}}, %[[IDS]] {dim = 0 : i64, size = 10 : i64} : tensor<6x4xf32>, tensor<6xi64> -> tensor<10x4xf32>
// CHECK: return %{{.*}}, %[[GT]], %{{.*}} : tensor<f32>, tensor<10x4xf32>, tensor<4x5xf32>
