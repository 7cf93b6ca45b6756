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

// f32 erfc: ember's formula (the eager kernels' coefficients and operations): the |x| < 1
// polynomial, and the tail's e^{-a^2} inline (2^(n + 64) built from n's bits; no math.exp) times
// a polynomial in s from one division, also on vectors.
// CHECK-LABEL: func.func @f32_erfc
func.func @f32_erfc(%x: f32, %v: vector<8xf32>) -> (f32, vector<8xf32>) {
  // CHECK-NOT: math.erfc
  // CHECK-NOT: math.exp
  // CHECK: math.absf %arg0 : f32
  // CHECK: arith.bitcast %{{.*}} : f32 to i32
  // CHECK: arith.shli
  // CHECK: arith.divf
  // CHECK: arith.select
  // CHECK: math.absf %arg1 : vector<8xf32>
  // CHECK: arith.bitcast %{{.*}} : vector<8xf32> to vector<8xi32>
  // CHECK-NOT: math.erfc
  // CHECK-NOT: math.exp
  %0 = math.erfc %x : f32
  %1 = math.erfc %v : vector<8xf32>
  return %0, %1 : f32, vector<8xf32>
}
