// RUN: ember-opt %s --ember-sort-to-runtime-call | FileCheck %s

// One entry per element type, over unranked memrefs (any rank and layout).
// CHECK-DAG: func.func private @ember_cpu_argsort_f32(memref<*xf32>, memref<*xi64>, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_cpu_argsort_i1(memref<*xi1>, memref<*xi64>, i64, i64) attributes {llvm.emit_c_interface}

// CHECK-LABEL: func.func @argsort
func.func @argsort(%x: memref<4x7xf32, strided<[1, 4]>>, %o: memref<4x3xi64>, %y: memref<7x4xf32>, %p: memref<7x4xi64>) {
  // CHECK: %[[X:.*]] = memref.cast %arg0 : memref<4x7xf32, strided<[1, 4]>> to memref<*xf32>
  // CHECK: %[[O:.*]] = memref.cast %arg1 : memref<4x3xi64> to memref<*xi64>
  // CHECK: %[[D:.*]] = arith.constant 1 : i64
  // CHECK: %[[DESC:.*]] = arith.constant 1 : i64
  // CHECK: call @ember_cpu_argsort_f32(%[[X]], %[[O]], %[[D]], %[[DESC]]) : (memref<*xf32>, memref<*xi64>, i64, i64) -> ()
  ember.argsort %x into %o {dim = 1 : i64, descending = true} : memref<4x7xf32, strided<[1, 4]>> into memref<4x3xi64>
  // The second call reuses the declaration.
  // CHECK: %[[D0:.*]] = arith.constant 0 : i64
  // CHECK: %[[ASC:.*]] = arith.constant 0 : i64
  // CHECK: call @ember_cpu_argsort_f32(%{{.*}}, %{{.*}}, %[[D0]], %[[ASC]])
  ember.argsort %y into %p {dim = 0 : i64, descending = false} : memref<7x4xf32> into memref<7x4xi64>
  // CHECK-NOT: ember.argsort
  return
}

// CHECK-LABEL: func.func @argsort_bool
func.func @argsort_bool(%b: memref<5xi1>, %o: memref<5xi64>) {
  // CHECK: call @ember_cpu_argsort_i1
  ember.argsort %b into %o {dim = 0 : i64, descending = false} : memref<5xi1> into memref<5xi64>
  return
}

// Tensor-form ops are left for bufferization.
// CHECK-LABEL: func.func @tensor_form
func.func @tensor_form(%x: tensor<4xf32>) -> tensor<4xi64> {
  // CHECK: ember.argsort %{{.*}} : tensor<4xf32> -> tensor<4xi64>
  %0 = ember.argsort %x {dim = 0 : i64, descending = false} : tensor<4xf32> -> tensor<4xi64>
  return %0 : tensor<4xi64>
}
