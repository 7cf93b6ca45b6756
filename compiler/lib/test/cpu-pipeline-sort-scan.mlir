// RUN: ember-opt %s --ember-cpu-pipeline | FileCheck %s
// argsort, cumsum, cumprod, prod and unfold through the whole CPU pipeline: the sort is a call
// of the runtime's kernel through unranked memref descriptors (its C interface wrapper), the
// scans are loops with the running value, and nothing of ember, linalg, scf or tensor remains.

// CHECK-DAG: llvm.func @_mlir_ciface_ember_cpu_argsort_f32(!llvm.ptr, !llvm.ptr, i64, i64)
// CHECK-LABEL: llvm.func @sort_and_scan
// CHECK-NOT: ember.
// CHECK-NOT: linalg.
// CHECK-NOT: scf.
// CHECK-NOT: tensor.
// CHECK: llvm.call @ember_cpu_argsort_f32
// CHECK: llvm.fadd {{.*}} : f64
// CHECK: llvm.return
func.func @sort_and_scan(%x: tensor<4x5xf32>, %i: tensor<4x5xi64>) -> (tensor<4x2xi64>, tensor<4x5xf32>, tensor<4x5xi64>, tensor<5xi64>, tensor<4x2x3xf32>) {
  %0 = ember.argsort %x {dim = 1 : i64, descending = true} : tensor<4x5xf32> -> tensor<4x2xi64>
  %1 = ember.cumsum %x {dim = 1 : i64, reverse = true} : tensor<4x5xf32>
  %2 = ember.cumprod %i {dim = 0 : i64} : tensor<4x5xi64>
  %3 = ember.prod %i {dims = array<i64: 0>, keepdim = false} : tensor<4x5xi64> -> tensor<5xi64>
  %4 = ember.unfold %x {dim = 1 : i64, size = 3 : i64, step = 2 : i64} : tensor<4x5xf32> -> tensor<4x2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<4x2xi64>, tensor<4x5xf32>, tensor<4x5xi64>, tensor<5xi64>, tensor<4x2x3xf32>
}
