// RUN: ember-opt %s -split-input-file -verify-diagnostics

func.func @shapes_do_not_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{ember.add: operand shapes 'tensor<2x3xf32>' and 'tensor<4xf32>' are not broadcast-compatible}}
  %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<4xf32>
  return
}

// -----

func.func @element_types_differ(%a: tensor<3xf32>, %b: tensor<3xf64>) {
  // expected-error @+1 {{ember.add: operand element types differ ('f32' vs 'f64'); cast one operand first}}
  %0 = ember.add %a, %b : tensor<3xf32>, tensor<3xf64>
  return
}

// -----

func.func @integer_operands_of_a_float_record(%a: tensor<3xi32>, %b: tensor<3xi32>) {
  // Float-rule records (div) compute in a float type; Same-rule ones (add) take integers too.
  // expected-error @+1 {{must be ranked tensor of floating-point values}}
  %0 = ember.div %a, %b : tensor<3xi32>, tensor<3xi32>
  return
}

// -----

func.func @index_select_of_a_2d_index(%a: tensor<4x3xf32>, %i: tensor<2x2xi64>) {
  // expected-error @+1 {{index must be 1-D or 0-D}}
  %0 = ember.index_select %a, %i {dim = 0 : i64} : tensor<4x3xf32>, tensor<2x2xi64> -> tensor<4x3xf32>
  return
}

// -----

func.func @index_select_with_i32_index(%a: tensor<4x3xf32>, %i: tensor<2xi32>) {
  // expected-error @+1 {{must be ranked tensor of 64-bit signless integer values}}
  %0 = ember.index_select %a, %i {dim = 0 : i64} : tensor<4x3xf32>, tensor<2xi32> -> tensor<2x3xf32>
  return
}

// -----

func.func @gather_index_larger_than_input(%a: tensor<4x3xf32>, %i: tensor<2x5xi64>) {
  // expected-error @+1 {{is larger than the input}}
  %0 = ember.gather %a, %i {dim = 0 : i64} : tensor<4x3xf32>, tensor<2x5xi64> -> tensor<2x5xf32>
  return
}

// -----

func.func @scatter_add_source_type(%a: tensor<4x3xf32>, %i: tensor<2x3xi64>, %s: tensor<2x3xi64>) {
  // expected-error @+1 {{source element type 'i64' differs from 'f32'}}
  %0 = ember.scatter_add %a, %i, %s {dim = 0 : i64} : tensor<4x3xf32>, tensor<2x3xi64>, tensor<2x3xi64> -> tensor<4x3xf32>
  return
}

// -----

func.func @index_add_index_length(%s: tensor<4x3xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{must be 1-D with one entry per slice}}
  %0 = ember.index_add %s, %i {dim = 0 : i64, size = 6 : i64} : tensor<4x3xf32>, tensor<2xi64> -> tensor<6x3xf32>
  return
}

// -----

func.func @argmax_result_type(%a: tensor<4x3xf32>) {
  // expected-error @+1 {{result type should be 'tensor<4xi64>'}}
  %0 = ember.argmax %a {dim = 1 : i64, keepdim = false} : tensor<4x3xf32> -> tensor<4x1xi64>
  return
}

// -----

func.func @matmul_inner_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{ember.matmul: operands 'tensor<2x3xf32>' and 'tensor<4x5xf32>' are not MxK and KxN matrices}}
  %0 = ember.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return
}

// -----

func.func @sum_wrong_result(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result type should be 'tensor<3xf32>'}}
  %0 = ember.sum %a {dims = array<i64: 0>, keepdim = false} : tensor<2x3xf32> -> tensor<2xf32>
  return
}

// -----

func.func @sum_unsorted_dims(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{dims must be sorted, unique and in [0, 2)}}
  %0 = ember.sum %a {dims = array<i64: 1, 0>, keepdim = false} : tensor<2x3xf32> -> tensor<f32>
  return
}

// -----

func.func @reshape_count(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot reshape 'tensor<2x3xf32>' to 'tensor<7xf32>'}}
  %0 = ember.reshape %a : tensor<2x3xf32> -> tensor<7xf32>
  return
}

// -----

func.func @expand_incompatible(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot expand 'tensor<2x3xf32>' to 'tensor<4x3xf32>'}}
  %0 = ember.expand %a : tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @fusion_bad_yield(%x: tensor<4xf32>) {
  // expected-error @+1 {{body must end in ember.yield of the result type}}
  %0 = ember.fusion %x : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %1 = ember.sum %a {dims = array<i64>, keepdim = false} : tensor<4xf32> -> tensor<f32>
    ember.yield %1 : tensor<f32>
  }
  return
}

// -----

func.func @permute_repeats(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{dims must be a permutation of [0, 2)}}
  %0 = ember.permute %a {dims = array<i64: 0, 0>} : tensor<2x3xf32> -> tensor<2x2xf32>
  return
}

// -----

func.func @slice_out_of_range(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{slice [1, 7) step 1 of dim 1 is out of range}}
  %0 = ember.slice %a {dim = 1, start = 1, end = 7, step = 1} : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @cat_mismatch(%a: tensor<2x3xf32>, %b: tensor<3x3xf32>) {
  // expected-error @+1 {{inputs differ outside dimension 1}}
  %0 = ember.cat %a, %b {dim = 1} : tensor<2x3xf32>, tensor<3x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @bitwise_on_floats(%a: tensor<3xf32>) {
  // expected-error @+1 {{must be ranked tensor of signless integer values}}
  %0 = ember.bitwise_and %a, %a : tensor<3xf32>, tensor<3xf32>
  return
}

// -----

func.func @im2col_wrong_columns(%x: tensor<2x3x9x9xf32>) {
  // expected-error @+1 {{'ember.im2col' op columns of 'tensor<2x3x9x9xf32>' with kernel 2x2 and output size 5x5 are [12, 50], got 'tensor<12x49xf32>'}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x49xf32>
  return
}

// -----

func.func @im2col_zero_stride(%x: tensor<2x3x9x9xf32>) {
  // expected-error @+1 {{'ember.im2col' op stride must hold two values of at least 1}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 0, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<12x50xf32>
  return
}

// -----

func.func @im2col_not_an_image(%x: tensor<3x9x9xf32>) {
  // expected-error @+1 {{'ember.im2col' op expects an image [N, C, H, W] and columns [C*kh*kw, N*oh*ow]}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<3x9x9xf32> -> tensor<12x25xf32>
  return
}

// -----

func.func @col2im_wrong_image(%c: tensor<12x50xf32>) {
  // expected-error @+1 {{'ember.col2im' op columns of 'tensor<2x4x9x9xf32>' with kernel 2x2 and output size 5x5 are [16, 50], got 'tensor<12x50xf32>'}}
  %0 = ember.col2im %c {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<12x50xf32> -> tensor<2x4x9x9xf32>
  return
}

// -----

func.func @im2col_memref_without_output(%x: memref<2x3x9x9xf32>) {
  // expected-error @+1 {{'ember.im2col' op on memrefs writes into an output memref and has no result}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : memref<2x3x9x9xf32> -> tensor<12x50xf32>
  return
}

// -----

func.func @im2col_f64(%x: tensor<2x3x9x9xf64>) {
  // expected-error @+1 {{must be ranked tensor of 32-bit float values or memref of 32-bit float values}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf64> -> tensor<12x50xf32>
  return
}

// -----

// Only the batch of an image may be dynamic.
func.func @im2col_dynamic_channels(%x: tensor<2x?x9x9xf32>) {
  // expected-error @+1 {{needs a static image shape outside the batch}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<2x?x9x9xf32> -> tensor<12x50xf32>
  return
}

// -----

func.func @im2col_static_columns_of_a_dynamic_batch(%x: tensor<?x3x9x9xf32>) {
  // expected-error @+1 {{must be dynamic in dim 1 exactly when the image}}
  %0 = ember.im2col %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 3>, output_size = array<i64: 5, 5>} : tensor<?x3x9x9xf32> -> tensor<12x50xf32>
  return
}

// -----

func.func @cumsum_dim_out_of_range(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{dim 2 out of range for 'tensor<2x3xf32>'}}
  %0 = ember.cumsum %a {dim = 2 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @unfold_window_too_large(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{windows of size 4 step 1 along dim 1 do not fit 'tensor<2x3xf32>'}}
  %0 = ember.unfold %a {dim = 1 : i64, size = 4 : i64, step = 1 : i64} : tensor<2x3xf32> -> tensor<2x0x4xf32>
  return
}

// -----

func.func @unfold_result_type(%a: tensor<2x9xf32>) {
  // expected-error @+1 {{result type should be 'tensor<2x4x3xf32>'}}
  %0 = ember.unfold %a {dim = 1 : i64, size = 3 : i64, step = 2 : i64} : tensor<2x9xf32> -> tensor<2x3x3xf32>
  return
}

// -----

func.func @argsort_k_too_large(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{result 'tensor<2x4xi64>' does not fit the input 'tensor<2x3xf32>' sorted along dim 1}}
  %0 = ember.argsort %a {dim = 1 : i64, descending = false} : tensor<2x3xf32> -> tensor<2x4xi64>
  return
}

// -----

func.func @argsort_k_of_a_dynamic_dim(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{does not fit the input 'tensor<?x3xf32>' sorted along dim 0}}
  %0 = ember.argsort %a {dim = 0 : i64, descending = false} : tensor<?x3xf32> -> tensor<2x3xi64>
  return
}

// -----

func.func @argsort_memref_with_result(%a: memref<2x3xf32>, %o: memref<2x3xi64>) {
  // expected-error @+1 {{on memrefs writes into an output memref and has no result}}
  %0 = "ember.argsort"(%a, %o) {dim = 1 : i64, descending = false} : (memref<2x3xf32>, memref<2x3xi64>) -> tensor<2x3xi64>
  return
}

// -----

func.func @conv2d_weight_does_not_fit(%x: tensor<2x3x9x9xf32>, %w: tensor<4x10xf32>) {
  // expected-error @+1 {{'ember.conv2d' op image 'tensor<2x3x9x9xf32>', weight 'tensor<4x10xf32>' and output 'tensor<2x4x5x5xf32>' do not fit a 2x2 convolution with output size 5x5}}
  %0 = ember.conv2d %x, %w {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<4x10xf32> -> tensor<2x4x5x5xf32>
  return
}

// -----

func.func @conv2d_weight_grad_dynamic(%x: tensor<?x3x9x9xf32>, %g: tensor<2x4x5x5xf32>) {
  // expected-error @+1 {{'ember.conv2d_weight_grad' op expects a static image [N, C, H, W], weight [O, C*kh*kw] and output [N, O, oh, ow]}}
  %0 = ember.conv2d_weight_grad %x, %g {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<?x3x9x9xf32>, tensor<2x4x5x5xf32> -> tensor<4x12xf32>
  return
}

// -----

func.func @conv2d_input_grad_zero_dilation(%g: tensor<2x4x5x5xf32>, %w: tensor<4x12xf32>) {
  // expected-error @+1 {{'ember.conv2d_input_grad' op dilation must hold two values of at least 1}}
  %0 = ember.conv2d_input_grad %g, %w {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 0, 1>, output_size = array<i64: 5, 5>} : tensor<2x4x5x5xf32>, tensor<4x12xf32> -> tensor<2x3x9x9xf32>
  return
}

// -----

func.func @conv2d_mixed_forms(%x: tensor<2x3x9x9xf32>, %w: memref<4x12xf32>) {
  // expected-error @+1 {{'ember.conv2d' op takes two tensors or two memrefs}}
  %0 = ember.conv2d %x, %w {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, memref<4x12xf32> -> tensor<2x4x5x5xf32>
  return
}

// -----

func.func @max_pool2d_output_does_not_fit(%x: tensor<2x3x9x9xf32>) {
  // expected-error @+1 {{'ember.max_pool2d' op pooled 'tensor<2x3x4x5xf32>' does not fit image 'tensor<2x3x9x9xf32>' with output size 5x5}}
  %0 = ember.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32> -> tensor<2x3x4x5xf32>
  return
}

// -----

func.func @max_pool2d_dynamic(%x: tensor<?x3x9x9xf32>) {
  // expected-error @+1 {{'ember.max_pool2d' op expects a static image [N, C, H, W] and pooled [N, C, oh, ow]}}
  %0 = ember.max_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<?x3x9x9xf32> -> tensor<2x3x5x5xf32>
  return
}

// -----

func.func @max_pool2d_window_in_the_padding(%x: tensor<1x1x2x2xf32>) {
  // expected-error @+1 {{'ember.max_pool2d' op has a window outside image 'tensor<1x1x2x2xf32>' (every window must hold a pixel of the image)}}
  %0 = ember.max_pool2d %x {kernel = array<i64: 1, 1>, stride = array<i64: 1, 1>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 4, 2>} : tensor<1x1x2x2xf32> -> tensor<1x1x4x2xf32>
  return
}

// -----

func.func @max_pool2d_dilation_skips_the_image(%x: tensor<1x1x2x8xf32>) {
  // Rows of a 2-tap window with dilation 3: -2 and 1 (one in the image), 0 and 3, then 2 and
  // 5 (none of a 2-row image).
  // expected-error @+1 {{has a window outside image}}
  %0 = ember.max_pool2d %x {kernel = array<i64: 2, 1>, stride = array<i64: 2, 1>, padding = array<i64: 2, 0>, dilation = array<i64: 3, 1>, output_size = array<i64: 3, 8>} : tensor<1x1x2x8xf32> -> tensor<1x1x3x8xf32>
  return
}

// -----

func.func @max_pool2d_memref_without_output(%x: memref<2x3x9x9xf32>) {
  // expected-error @+1 {{'ember.max_pool2d' op on memrefs writes into an output memref and has no result}}
  %0 = "ember.max_pool2d"(%x) {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : (memref<2x3x9x9xf32>) -> tensor<2x3x5x5xf32>
  return
}

// -----

func.func @max_pool2d_grad_result_is_not_the_image(%x: tensor<2x3x9x9xf32>, %g: tensor<2x3x5x5xf32>) {
  // expected-error @+1 {{'ember.max_pool2d_grad' op gradient 'tensor<2x3x9x8xf32>' must have the image's shape 'tensor<2x3x9x9xf32>'}}
  %0 = ember.max_pool2d_grad %x, %g {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<2x3x5x5xf32> -> tensor<2x3x9x8xf32>
  return
}

// -----

func.func @max_pool2d_grad_cotangent_does_not_fit(%x: tensor<2x3x9x9xf32>, %g: tensor<2x4x5x5xf32>) {
  // expected-error @+1 {{'ember.max_pool2d_grad' op pooled 'tensor<2x4x5x5xf32>' does not fit image 'tensor<2x3x9x9xf32>'}}
  %0 = ember.max_pool2d_grad %x, %g {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<2x4x5x5xf32> -> tensor<2x3x9x9xf32>
  return
}

// -----

func.func @max_pool2d_grad_mixed_forms(%x: tensor<2x3x9x9xf32>, %g: memref<2x3x5x5xf32>) {
  // expected-error @+1 {{'ember.max_pool2d_grad' op takes two tensors or two memrefs}}
  %0 = ember.max_pool2d_grad %x, %g {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, memref<2x3x5x5xf32> -> tensor<2x3x9x9xf32>
  return
}

// -----

func.func @max_pool2d_grad_zero_stride(%x: tensor<2x3x9x9xf32>, %g: tensor<2x3x5x5xf32>) {
  // expected-error @+1 {{'ember.max_pool2d_grad' op stride must hold two values of at least 1}}
  %0 = ember.max_pool2d_grad %x, %g {kernel = array<i64: 2, 2>, stride = array<i64: 0, 2>, padding = array<i64: 1, 0>, dilation = array<i64: 1, 1>, output_size = array<i64: 5, 5>} : tensor<2x3x9x9xf32>, tensor<2x3x5x5xf32> -> tensor<2x3x9x9xf32>
  return
}
