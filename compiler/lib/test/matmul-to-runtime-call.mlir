// RUN: ember-opt %s --ember-matmul-to-runtime-call | FileCheck %s

// CHECK-DAG: func.func private @ember_cpu_matmul_acc_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @ember_cpu_batch_matmul_acc_f32(memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @mm
func.func @mm(%a: memref<8x5xf32>, %b: memref<5x3xf32>, %c: memref<8x3xf32>) {
  // CHECK: %[[A:.*]] = memref.cast %arg0 : memref<8x5xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
  // CHECK: %[[B:.*]] = memref.cast %arg1 : memref<5x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
  // CHECK: %[[C:.*]] = memref.cast %arg2 : memref<8x3xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
  // CHECK: call @ember_cpu_matmul_acc_f32(%[[A]], %[[B]], %[[C]])
  // CHECK-NOT: linalg.matmul
  linalg.matmul ins(%a, %b : memref<8x5xf32>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  return
}

// Strided operands go to the kernel too: the descriptor carries the layout (the runtime reads
// A by strides and B transposed in place, and loops for layouts the kernel cannot take).
// CHECK-LABEL: func.func @strided
func.func @strided(%a: memref<8x5xf32, strided<[1, 8]>>, %b: memref<5x3xf32>, %c: memref<8x3xf32>) {
  // CHECK: memref.cast %arg0 : memref<8x5xf32, strided<[1, 8]>> to memref<?x?xf32, strided<[?, ?], offset: ?>>
  // CHECK: call @ember_cpu_matmul_acc_f32
  // CHECK-NOT: linalg.matmul
  linalg.matmul ins(%a, %b : memref<8x5xf32, strided<[1, 8]>>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  return
}

// Indexing maps that read an operand transposed: the kernel gets a transposed view of it.
// CHECK-LABEL: func.func @transposed_maps
func.func @transposed_maps(%a: memref<5x8xf32>, %b: memref<3x5xf32>, %c: memref<8x3xf32>) {
  // CHECK: %[[AT:.*]] = memref.transpose %arg0 (d0, d1) -> (d1, d0)
  // CHECK: memref.cast %[[AT]]
  // CHECK: %[[BT:.*]] = memref.transpose %arg1 (d0, d1) -> (d1, d0)
  // CHECK: memref.cast %[[BT]]
  // CHECK: call @ember_cpu_matmul_acc_f32
  // CHECK-NOT: linalg.matmul
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %b : memref<5x8xf32>, memref<3x5xf32>) outs(%c : memref<8x3xf32>)
  return
}

// Other maps (a broadcast operand) stay a linalg.matmul.
// CHECK-LABEL: func.func @other_maps
func.func @other_maps(%a: memref<5xf32>, %b: memref<5x3xf32>, %c: memref<8x3xf32>) {
  // CHECK: linalg.matmul
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k)>, affine_map<(m, n, k) -> (k, n)>,
                                 affine_map<(m, n, k) -> (m, n)>]
      ins(%a, %b : memref<5xf32>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  return
}

// CHECK-LABEL: func.func @bmm
func.func @bmm(%a: memref<4x8x5xf32>, %b: memref<4x5x3xf32>, %c: memref<4x8x3xf32>) {
  // CHECK: call @ember_cpu_batch_matmul_acc_f32(%{{.*}}, %{{.*}}, %{{.*}})
  // CHECK-NOT: linalg.batch_matmul
  linalg.batch_matmul ins(%a, %b : memref<4x8x5xf32>, memref<4x5x3xf32>) outs(%c : memref<4x8x3xf32>)
  return
}

// Tensors (before bufferization) and other element types are left alone.
// CHECK-LABEL: func.func @tensors
func.func @tensors(%a: tensor<8x5xf32>, %b: tensor<5x3xf32>, %c: tensor<8x3xf32>) -> tensor<8x3xf32> {
  // CHECK: linalg.matmul
  %0 = linalg.matmul ins(%a, %b : tensor<8x5xf32>, tensor<5x3xf32>) outs(%c : tensor<8x3xf32>) -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}

// CHECK-LABEL: func.func @f64
func.func @f64(%a: memref<8x5xf64>, %b: memref<5x3xf64>, %c: memref<8x3xf64>) {
  // CHECK: linalg.matmul
  linalg.matmul ins(%a, %b : memref<8x5xf64>, memref<5x3xf64>) outs(%c : memref<8x3xf64>)
  return
}

// A matmul into a buffer zero-filled just before it overwrites the buffer instead: the fill
// goes. A fill of another value, or of another buffer, stays (and the matmul accumulates).
// CHECK-LABEL: func.func @zero_filled
func.func @zero_filled(%a: memref<8x5xf32>, %b: memref<5x3xf32>, %c: memref<8x3xf32>,
                       %d: memref<8x3xf32>, %e: memref<2x8x5xf32>, %f: memref<2x5x3xf32>,
                       %g: memref<2x8x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  // CHECK-NOT: linalg.fill
  // CHECK: call @ember_cpu_matmul_f32(
  linalg.fill ins(%zero : f32) outs(%c : memref<8x3xf32>)
  linalg.matmul ins(%a, %b : memref<8x5xf32>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  // CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg3
  // CHECK: call @ember_cpu_matmul_acc_f32(
  linalg.fill ins(%one : f32) outs(%d : memref<8x3xf32>)
  linalg.matmul ins(%a, %b : memref<8x5xf32>, memref<5x3xf32>) outs(%d : memref<8x3xf32>)
  // CHECK: linalg.fill ins(%{{.*}} : f32) outs(%arg3
  // CHECK: call @ember_cpu_matmul_acc_f32(
  linalg.fill ins(%zero : f32) outs(%d : memref<8x3xf32>)
  linalg.matmul ins(%a, %b : memref<8x5xf32>, memref<5x3xf32>) outs(%c : memref<8x3xf32>)
  // CHECK-NOT: linalg.fill
  // CHECK: call @ember_cpu_batch_matmul_f32(
  linalg.fill ins(%zero : f32) outs(%g : memref<2x8x3xf32>)
  linalg.batch_matmul ins(%e, %f : memref<2x8x5xf32>, memref<2x5x3xf32>) outs(%g : memref<2x8x3xf32>)
  return
}
