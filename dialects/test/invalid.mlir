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

func.func @integer_operands(%a: tensor<3xi32>, %b: tensor<3xi32>) {
  // expected-error @+1 {{must be ranked tensor of floating-point values}}
  %0 = ember.add %a, %b : tensor<3xi32>, tensor<3xi32>
  return
}
