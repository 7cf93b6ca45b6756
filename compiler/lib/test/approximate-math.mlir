// RUN: ember-opt %s --ember-approximate-math | FileCheck %s

// f32 tanh, erf, exp and log become polynomial arithmetic (no libm call left); log's input is
// first scaled out of the subnormal range. sin stays (its range reduction is not exact enough).
// CHECK-LABEL: func.func @f32_math
func.func @f32_math(%x: f32) -> (f32, f32, f32, f32, f32) {
  // CHECK-NOT: math.tanh
  // CHECK-NOT: math.erf
  // CHECK-NOT: math.exp
  // CHECK: arith.cmpf olt, %arg0, %{{.*}} : f32
  // CHECK-NOT: math.log
  // CHECK: math.sin
  %0 = math.tanh %x : f32
  %1 = math.erf %x : f32
  %2 = math.exp %x : f32
  %3 = math.log %x : f32
  %4 = math.sin %x : f32
  return %0, %1, %2, %3, %4 : f32, f32, f32, f32, f32
}

// Other types keep their math ops (they lower to libm).
// CHECK-LABEL: func.func @f64_math
func.func @f64_math(%x: f64) -> f64 {
  // CHECK: math.tanh %arg0 : f64
  %0 = math.tanh %x : f64
  return %0 : f64
}
