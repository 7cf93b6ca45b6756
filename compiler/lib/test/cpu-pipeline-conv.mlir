// RUN: ember-opt %s --ember-cpu-pipeline | FileCheck %s
// A convolution (im2col + matmul, fused into one ember.conv2d), a column scatter (matmul +
// col2im of a weight that is not a transpose: left as it is) and a max pooling with its
// gradient (fused into ember.max_pool2d / max_pool2d_grad) go all the way to the LLVM dialect:
// the window ops become calls of ember's kernels through the C interface, and temporaries come
// from ember's caching host allocator (MLIR's generic allocation functions).

// CHECK-NOT: llvm.func @malloc
// CHECK-LABEL: llvm.func @conv
// CHECK-NOT: ember.
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK-NOT: ember_cpu_im2col_f32
// CHECK: llvm.call @{{.*}}ember_cpu_conv2d_f32
// CHECK-NOT: ember_cpu_matmul
// CHECK: llvm.call @_mlir_memref_to_llvm_free
// CHECK: llvm.return
func.func @conv(%x: tensor<2x3x9x9xf32>, %w: tensor<4x12xf32>) -> tensor<4x50xf32> {
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  %1 = ember.matmul %w, %0 : tensor<4x12xf32>, tensor<12x50xf32>
  return %1 : tensor<4x50xf32>
}

// CHECK-LABEL: llvm.func @conv_input_grad
// CHECK-NOT: ember.
// CHECK: llvm.call @{{.*}}ember_cpu_matmul_f32
// CHECK: llvm.call @{{.*}}ember_cpu_col2im_f32
// CHECK: llvm.return
func.func @conv_input_grad(%g: tensor<4x50xf32>, %wt: tensor<12x4xf32>) -> tensor<2x3x9x9xf32> {
  %0 = ember.matmul %wt, %g : tensor<12x4xf32>, tensor<4x50xf32>
  %1 = ember.col2im %0 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<12x50xf32> -> tensor<2x3x9x9xf32>
  return %1 : tensor<2x3x9x9xf32>
}

// CHECK-LABEL: llvm.func @max_pool
// CHECK-NOT: ember.
// CHECK-NOT: ember_cpu_im2col_f32
// CHECK: llvm.call @{{.*}}ember_cpu_max_pool2d_f32
// CHECK-NOT: ember_cpu_col2im_f32
// CHECK: llvm.call @{{.*}}ember_cpu_max_pool2d_grad_f32
// CHECK-NOT: ember_cpu_col2im_f32
// CHECK: llvm.return
func.func @max_pool(%x: tensor<4x1x4x4xf32>, %g: tensor<1x16xf32>) -> (tensor<16xf32>, tensor<4x1x4x4xf32>) {
  %c = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>, pad_value = 0xFF800000 : f32} : tensor<4x1x4x4xf32> -> tensor<4x16xf32>
  %m = ember.amax %c {dims = array<i64: 0>, keepdim = false} : tensor<4x16xf32> -> tensor<16xf32>
  %k = ember.amax %c {dims = array<i64: 0>, keepdim = true} : tensor<4x16xf32> -> tensor<1x16xf32>
  %e = ember.eq %c, %k : tensor<4x16xf32>, tensor<1x16xf32>
  %h = ember.cast %e : tensor<4x16xi1> -> tensor<4x16xf32>
  %n = ember.sum %h {dims = array<i64: 0>, keepdim = true} : tensor<4x16xf32> -> tensor<1x16xf32>
  %ge = ember.expand %g : tensor<1x16xf32> -> tensor<4x16xf32>
  %q = ember.div %ge, %n : tensor<4x16xf32>, tensor<1x16xf32>
  %r = ember.mul %q, %h : tensor<4x16xf32>, tensor<4x16xf32>
  %dx = ember.col2im %r {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 0, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 2, 2>} : tensor<4x16xf32> -> tensor<4x1x4x4xf32>
  return %m, %dx : tensor<16xf32>, tensor<4x1x4x4xf32>
}
