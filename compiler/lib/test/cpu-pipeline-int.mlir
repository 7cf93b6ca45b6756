// RUN: ember-opt %s --ember-cpu-pipeline | FileCheck %s
// Integer values through the whole CPU pipeline: i64 arguments and results are memref
// descriptors like f32 ones, the gather's index check is a call of ember_index_error in the
// loop, the scatter_add writes into its own buffer (the argument is only read), and nothing of
// ember, linalg or tensor remains.

// CHECK: llvm.func @ember_index_error(i64, i64, i64, i64)
// CHECK-LABEL: llvm.func @pick
// CHECK-NOT: ember.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK: llvm.call @ember_index_error
// CHECK: llvm.return
func.func @pick(%x: tensor<4x5xf32>, %t: tensor<4x1xi64>) -> (tensor<4x1xf32>, tensor<4x5xf32>, tensor<4xi64>) {
  %0 = ember.gather %x, %t {dim = 1 : i64} : tensor<4x5xf32>, tensor<4x1xi64> -> tensor<4x1xf32>
  %1 = ember.scatter_add %x, %t, %0 {dim = 1 : i64} : tensor<4x5xf32>, tensor<4x1xi64>, tensor<4x1xf32> -> tensor<4x5xf32>
  %2 = ember.argmax %x {dim = 1 : i64, keepdim = false} : tensor<4x5xf32> -> tensor<4xi64>
  return %0, %1, %2 : tensor<4x1xf32>, tensor<4x5xf32>, tensor<4xi64>
}
