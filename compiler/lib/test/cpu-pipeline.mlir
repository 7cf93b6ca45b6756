// RUN: ember-opt %s --ember-cpu-pipeline | FileCheck %s
// The whole CPU pipeline ends in the LLVM dialect: results become out-parameters (memref
// descriptors expanded), no ember/linalg/tensor ops remain, the GEMM is a call of ember's
// kernel (the overwriting entry: the zero fill of its output is gone) and the fused bias + relu
// one loop with llvm.intr.maximum.

// CHECK-LABEL: llvm.func @mlp_layer
// CHECK-SAME: (%arg0: !llvm.ptr
// CHECK-NOT: ember.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK: llvm.call @{{.*}}ember_cpu_matmul_f32
// CHECK: llvm.intr.maximum
// CHECK: llvm.return
func.func @mlp_layer(%x: tensor<8x5xf32>, %w: tensor<5x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = ember.matmul %x, %w : tensor<8x5xf32>, tensor<5x16xf32>
  %1 = ember.add %0, %b : tensor<8x16xf32>, tensor<16xf32>
  %2 = ember.relu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}

// A dynamic batch goes all the way down too: the sizes of the expand_shape (affine.apply after
// expand-strided-metadata) are lowered to LLVM arithmetic (lower-affine).
// CHECK-LABEL: llvm.func @dynamic_batch
// CHECK-NOT: affine.apply
// CHECK-NOT: unrealized_conversion_cast
// CHECK: llvm.call @{{.*}}ember_cpu_matmul_f32
// CHECK: llvm.return
func.func @dynamic_batch(%x: tensor<?x5xf32>, %w: tensor<5x16xf32>) -> tensor<?x8xf32>
    attributes {ember.symbols = array<i64: 0, 0>} {
  %0 = ember.matmul %x, %w {ember.dim_sizes = array<i64: 0, 1, 16, 0>} : tensor<?x5xf32>, tensor<5x16xf32>
  %1 = ember.relu %0 : tensor<?x16xf32>
  %2 = ember.reshape %1 {ember.dim_sizes = array<i64: 0, 2, 8, 0>} : tensor<?x16xf32> -> tensor<?x8xf32>
  return %2 : tensor<?x8xf32>
}
