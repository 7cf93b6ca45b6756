// RUN: ember-opt %s --ember-matmul-to-runtime-call | FileCheck %s

// CHECK: func.func private @ember_cpu_matmul_acc_f32(memref<?x?xf32>, memref<?x?xf32>, memref<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @mm
func.func @mm(%a: memref<8x5xf32>, %b: memref<5x3xf32>, %c: memref<8x3xf32>) {
  // CHECK: %[[A:.*]] = memref.cast %arg0 : memref<8x5xf32> to memref<?x?xf32>
  // CHECK: %[[B:.*]] = memref.cast %arg1 : memref<5x3xf32> to memref<?x?xf32>
  // CHECK: %[[C:.*]] = memref.cast %arg2 : memref<8x3xf32> to memref<?x?xf32>
  // CHECK: call @ember_cpu_matmul_acc_f32(%[[A]], %[[B]], %[[C]])
  // CHECK-NOT: linalg.matmul
  linalg.matmul ins(%a, %b : memref<8x5xf32>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  return
}

// A strided operand keeps linalg.matmul (the kernel takes row-major buffers).
// CHECK-LABEL: func.func @strided
func.func @strided(%a: memref<8x5xf32, strided<[1, 8]>>, %b: memref<5x3xf32>, %c: memref<8x3xf32>) {
  // CHECK: linalg.matmul
  linalg.matmul ins(%a, %b : memref<8x5xf32, strided<[1, 8]>>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  return
}

// Tensors (before bufferization) are left alone.
// CHECK-LABEL: func.func @tensors
func.func @tensors(%a: tensor<8x5xf32>, %b: tensor<5x3xf32>, %c: tensor<8x3xf32>) -> tensor<8x3xf32> {
  // CHECK: linalg.matmul
  %0 = linalg.matmul ins(%a, %b : tensor<8x5xf32>, tensor<5x3xf32>) outs(%c : tensor<8x3xf32>) -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}
