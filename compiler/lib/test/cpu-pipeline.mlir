// RUN: ember-opt %s --ember-cpu-pipeline | FileCheck %s
// The whole CPU pipeline ends in the LLVM dialect: results become out-parameters (memref
// descriptors expanded), no ember/linalg/tensor ops remain, the GEMM is a call of ember's
// kernel and the fused bias + relu one loop with llvm.intr.maximum.

// CHECK-LABEL: llvm.func @mlp_layer
// CHECK-SAME: (%arg0: !llvm.ptr
// CHECK-NOT: ember.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK: llvm.call @{{.*}}ember_cpu_matmul_acc_f32
// CHECK: llvm.intr.maximum
// CHECK: llvm.return
func.func @mlp_layer(%x: tensor<8x5xf32>, %w: tensor<5x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  %0 = ember.matmul %x, %w : tensor<8x5xf32>, tensor<5x16xf32>
  %1 = ember.add %0, %b : tensor<8x16xf32>, tensor<16xf32>
  %2 = ember.relu %1 : tensor<8x16xf32>
  return %2 : tensor<8x16xf32>
}
