// RUN: ember-opt %s --ember-lower-indexing -split-input-file | FileCheck %s

// The runtime's error report is declared once per module.
// CHECK: func.func private @ember_index_error(i64, i64, i64, i64)
// CHECK-NOT: func.func private @ember_index_error
// CHECK-LABEL: func.func @index_select
func.func @index_select(%w: tensor<10x3xf32>, %i: tensor<4xi64>) -> tensor<4x3xf32> {
  // A parallel generic over the result reads the index through (d0, d1) -> (d0) and the
  // table with tensor.extract at the checked position; negative indices count from the end.
  // CHECK: linalg.generic
  // CHECK-SAME: iterator_types = ["parallel", "parallel"]
  // CHECK-SAME: ins(%{{.*}} : tensor<4xi64>)
  // CHECK: ^bb0(%[[RAW:.*]]: i64, %{{.*}}: f32):
  // CHECK: %[[D1:.*]] = linalg.index 1 : index
  // CHECK: %[[SIZE:.*]] = arith.constant 10 : i64
  // CHECK: arith.cmpi slt, %[[RAW]]
  // CHECK: %[[OK:.*]] = arith.cmpi ult, %{{.*}}, %[[SIZE]] : i64
  // CHECK: scf.if
  // CHECK: call @ember_index_error(%{{.*}}, %[[RAW]], %{{.*}}, %[[SIZE]])
  // CHECK: %[[SAFE:.*]] = arith.select %[[OK]]
  // CHECK: %[[ROW:.*]] = arith.index_cast %[[SAFE]] : i64 to index
  // CHECK: %[[V:.*]] = tensor.extract %{{.*}}[%[[ROW]], %[[D1]]] : tensor<10x3xf32>
  // CHECK: linalg.yield %[[V]] : f32
  // CHECK-NOT: ember.index_select
  %0 = ember.index_select %w, %i {dim = 0 : i64} : tensor<10x3xf32>, tensor<4xi64> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @gather
func.func @gather(%x: tensor<4x5xf32>, %i: tensor<4x1xi64>) -> tensor<4x1xf32> {
  // Gather takes no negative indices: only the unsigned range check.
  // CHECK: linalg.generic
  // CHECK: ^bb0(%[[RAW:.*]]: i64, %{{.*}}: f32):
  // CHECK: %[[D0:.*]] = linalg.index 0 : index
  // CHECK-NOT: arith.cmpi slt
  // CHECK: arith.cmpi ult, %[[RAW]]
  // CHECK: %[[COL:.*]] = arith.index_cast
  // CHECK: tensor.extract %{{.*}}[%[[D0]], %[[COL]]] : tensor<4x5xf32>
  %0 = ember.gather %x, %i {dim = 1 : i64} : tensor<4x5xf32>, tensor<4x1xi64> -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

// CHECK-LABEL: func.func @scatter_add
func.func @scatter_add(%x: tensor<4x5xf32>, %i: tensor<4x1xi64>, %s: tensor<4x1xf32>) -> tensor<4x5xf32> {
  // A copy of the input, then a sequential loop nest over the index carrying the result.
  // CHECK: %[[COPY:.*]] = linalg.copy ins(%arg0 : tensor<4x5xf32>)
  // CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A0:.*]] = %[[COPY]]) -> (tensor<4x5xf32>)
  // CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[A1:.*]] = %[[A0]]) -> (tensor<4x5xf32>)
  // CHECK: tensor.extract %arg1[%[[I]], %[[J]]] : tensor<4x1xi64>
  // CHECK: call @ember_index_error
  // CHECK: %[[AT:.*]] = arith.index_cast
  // CHECK: %[[V:.*]] = tensor.extract %arg2[%[[I]], %[[J]]] : tensor<4x1xf32>
  // CHECK: %[[CUR:.*]] = tensor.extract %[[A1]][%[[I]], %[[AT]]]
  // CHECK: %[[SUM:.*]] = arith.addf %[[CUR]], %[[V]] : f32
  // CHECK: tensor.insert %[[SUM]] into %[[A1]][%[[I]], %[[AT]]]
  // CHECK-NOT: ember.scatter_add
  %0 = ember.scatter_add %x, %i, %s {dim = 1 : i64} : tensor<4x5xf32>, tensor<4x1xi64>, tensor<4x1xf32> -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}

// -----

// CHECK-LABEL: func.func @index_add
func.func @index_add(%s: tensor<4x3xi64>, %i: tensor<4xi64>) -> tensor<10x3xi64> {
  // Zeros, then integer adds at the checked rows.
  // CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%{{.*}} : tensor<10x3xi64>)
  // CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[Z]])
  // CHECK: call @ember_index_error
  // CHECK: arith.addi
  // CHECK: tensor.insert
  %0 = ember.index_add %s, %i {dim = 0 : i64, size = 10 : i64} : tensor<4x3xi64>, tensor<4xi64> -> tensor<10x3xi64>
  return %0 : tensor<10x3xi64>
}

// -----

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @argmax
func.func @argmax(%x: tensor<4x5xf32>) -> tensor<4xi64> {
  // A reduction with two accumulators (value from -inf, position from 0); NaN wins; the
  // result is the positions.
  // CHECK-NOT: ember_index_error
  // CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: %[[VALS:.*]] = linalg.fill ins(%[[NINF]] : f32)
  // CHECK: %[[POS:.*]] = linalg.fill ins(%{{.*}} : i64)
  // CHECK: %[[R:.*]]:2 = linalg.generic {indexing_maps = [#[[IN]], #[[OUT]], #[[OUT]]], iterator_types = ["parallel", "reduction"]}
  // CHECK-SAME: outs(%[[VALS]], %[[POS]] : tensor<4xf32>, tensor<4xi64>)
  // CHECK: arith.cmpf ogt
  // CHECK: arith.cmpf uno
  // CHECK: linalg.index 1
  // CHECK: return %[[R]]#1
  %0 = ember.argmax %x {dim = 1 : i64, keepdim = false} : tensor<4x5xf32> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// CHECK-LABEL: func.func @argmin_int_keepdim
func.func @argmin_int_keepdim(%x: tensor<4x5xi32>) -> tensor<1x5xi64> {
  // CHECK: arith.constant 2147483647 : i32
  // CHECK: linalg.generic
  // CHECK-SAME: iterator_types = ["reduction", "parallel"]
  // CHECK: arith.cmpi slt
  %0 = ember.argmin %x {dim = 0 : i64, keepdim = true} : tensor<4x5xi32> -> tensor<1x5xi64>
  return %0 : tensor<1x5xi64>
}

// -----

// A dynamic batch: the gather's rows and the scatter loop's trip count come from tensor.dim,
// and each index is checked against the input's (static) class dim.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32>, %[[I:.*]]: tensor<?x1xi64>
func.func @dynamic_batch(%x: tensor<?x3xf32>, %i: tensor<?x1xi64>, %g: tensor<?x1xf32>) -> (tensor<?x1xf32>, tensor<?x3xf32>) attributes {ember.symbols = array<i64: 0, 0>} {
  // CHECK: %[[N:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3xf32>
  // CHECK: tensor.empty(%[[N]]) : tensor<?x1xf32>
  // CHECK: linalg.generic
  // CHECK: arith.constant 3 : i64
  %0 = ember.gather %x, %i {dim = 1 : i64, ember.dim_sizes = array<i64: 0, 1, 1, 0>} : tensor<?x3xf32>, tensor<?x1xi64> -> tensor<?x1xf32>
  // CHECK: %[[ROWS:.*]] = tensor.dim %[[I]], %{{.*}} : tensor<?x1xi64>
  // CHECK: scf.for %{{.*}} = %{{.*}} to %[[ROWS]]
  %1 = ember.scatter_add %x, %i, %g {dim = 1 : i64, ember.dim_sizes = array<i64: 0, 1, 3, 0>} : tensor<?x3xf32>, tensor<?x1xi64>, tensor<?x1xf32> -> tensor<?x3xf32>
  return %0, %1 : tensor<?x1xf32>, tensor<?x3xf32>
}
