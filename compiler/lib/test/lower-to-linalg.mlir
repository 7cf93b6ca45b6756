// RUN: ember-opt %s --ember-lower-to-linalg -split-input-file -verify-diagnostics | FileCheck %s

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @add_broadcast
func.func @add_broadcast(%a: tensor<4x1xf32>, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  // CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4x3xf32>
  // CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
  // CHECK-SAME: ins(%{{.*}}, %{{.*}} : tensor<4x1xf32>, tensor<3xf32>) outs(%[[INIT]] : tensor<4x3xf32>)
  // CHECK: arith.addf
  // CHECK-NOT: ember.add
  %0 = ember.add %a, %b : tensor<4x1xf32>, tensor<3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// A fusion kernel becomes one linalg.generic whose body is every op's scalar expression.
// CHECK-LABEL: func.func @fusion
func.func @fusion(%x: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32> {
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%arg0, %arg1 : tensor<8x16xf32>, tensor<16xf32>)
  // CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
  // CHECK-NEXT:   %[[S:.*]] = arith.addf %[[X]], %[[B]] : f32
  // CHECK-NEXT:   %[[Z:.*]] = arith.constant 0.000000e+00 : f32
  // CHECK-NEXT:   %[[R:.*]] = arith.maximumf %[[S]], %[[Z]] : f32
  // CHECK-NEXT:   linalg.yield %[[R]] : f32
  // CHECK-NOT: linalg.generic
  %0 = ember.fusion %x, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32> {
  ^bb0(%a: tensor<8x16xf32>, %c: tensor<16xf32>):
    %1 = ember.add %a, %c : tensor<8x16xf32>, tensor<16xf32>
    %2 = ember.relu %1 : tensor<8x16xf32>
    ember.yield %2 : tensor<8x16xf32>
  }
  return %0 : tensor<8x16xf32>
}

// -----

// relu_backward's record expression: where(b > 0, a, 0).
// CHECK-LABEL: func.func @relu_backward
func.func @relu_backward(%g: tensor<4xf32>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: arith.cmpf ogt
  // CHECK: arith.select
  %0 = ember.relu_backward %g, %x : tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A transposed operand (a Linear layer's weight) is read through the matmul's indexing map,
// not copied; the transpose goes away.
// CHECK-DAG: #[[MK:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[NK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[KM:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[KN:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-LABEL: func.func @matmul_transposed_rhs
func.func @matmul_transposed_rhs(%x: tensor<8x5xf32>, %w: tensor<3x5xf32>) -> tensor<8x3xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: linalg.matmul indexing_maps = [#[[MK]], #[[NK]], #[[MN]]] ins(%arg0, %arg1 : tensor<8x5xf32>, tensor<3x5xf32>)
  %t = ember.transpose %w {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<3x5xf32> -> tensor<5x3xf32>
  %0 = ember.matmul %x, %t : tensor<8x5xf32>, tensor<5x3xf32>
  return %0 : tensor<8x3xf32>
}

// A transposed product is computed transposed: (X^T G)^T = G^T X, G read transposed in
// place and X's transpose of a transpose cancelled.
// CHECK-LABEL: func.func @transposed_product
func.func @transposed_product(%x: tensor<4x8xf32>, %g: tensor<4x3xf32>) -> tensor<3x8xf32> {
  // CHECK-NOT: linalg.generic
  // CHECK: linalg.matmul indexing_maps = [#[[KM]], #[[KN]], #[[MN]]] ins(%arg1, %arg0 : tensor<4x3xf32>, tensor<4x8xf32>) {{.*}} -> tensor<3x8xf32>
  // CHECK-NOT: ember.
  %xt = ember.transpose %x {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<4x8xf32> -> tensor<8x4xf32>
  %0 = ember.matmul %xt, %g : tensor<8x4xf32>, tensor<4x3xf32>
  %1 = ember.transpose %0 {dim0 = 0 : i64, dim1 = 1 : i64} : tensor<8x3xf32> -> tensor<3x8xf32>
  return %1 : tensor<3x8xf32>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<8x5xf32>, %b: tensor<5x3xf32>) -> tensor<8x3xf32> {
  // CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<8x3xf32>)
  // CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<8x5xf32>, tensor<5x3xf32>) outs(%[[Z]] : tensor<8x3xf32>)
  %0 = ember.matmul %a, %b : tensor<8x5xf32>, tensor<5x3xf32>
  return %0 : tensor<8x3xf32>
}

// -----

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (0, d1, 0)>
// CHECK-LABEL: func.func @sum_keepdim
func.func @sum_keepdim(%a: tensor<2x3x4xf32>) -> tensor<1x3x1xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["reduction", "parallel", "reduction"]}
  // A float sum may be reassociated (so LLVM vectorizes the loop).
  // CHECK: arith.addf {{.*}} fastmath<reassoc>
  %0 = ember.sum %a {dims = array<i64: 0, 2>, keepdim = true} : tensor<2x3x4xf32> -> tensor<1x3x1xf32>
  return %0 : tensor<1x3x1xf32>
}

// -----

// amax starts from -inf and combines with the NaN-propagating maximumf.
// CHECK-LABEL: func.func @amax_rows
func.func @amax_rows(%a: tensor<4x6xf32>) -> tensor<4xf32> {
  // CHECK: %[[NINF:.*]] = arith.constant 0xFF800000 : f32
  // CHECK: linalg.fill ins(%[[NINF]] : f32)
  // CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
  // CHECK: arith.maximumf
  %0 = ember.amax %a {dims = array<i64: 1>, keepdim = false} : tensor<4x6xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-DAG: #[[T:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @views
func.func @views(%a: tensor<2x3xf32>, %v: tensor<3xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>, tensor<4x3xf32>) {
  // CHECK: linalg.generic {indexing_maps = [#[[T]], {{.*}}]
  // CHECK: tensor.collapse_shape %arg0 {{\[\[}}0, 1]] : tensor<2x3xf32> into tensor<6xf32>
  // CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [3, 2] : tensor<6xf32> into tensor<3x2xf32>
  // CHECK: linalg.generic
  // CHECK-SAME: ins(%arg1 : tensor<3xf32>) outs(%{{.*}} : tensor<4x3xf32>)
  %0 = ember.transpose %a {dim0 = 0, dim1 = 1} : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = ember.reshape %a : tensor<2x3xf32> -> tensor<3x2xf32>
  %2 = ember.expand %v : tensor<3xf32> -> tensor<4x3xf32>
  return %0, %1, %2 : tensor<3x2xf32>, tensor<3x2xf32>, tensor<4x3xf32>
}

// -----

// A dynamic dim that no operand and no ember.dim_sizes sizes (an expand to `?`).
func.func @dynamic_unsized(%a: tensor<f32>) -> tensor<?xf32> {
  // expected-error @+1 {{cannot size dynamic dim 0 of 'tensor<?xf32>' for 'ember.expand': give the op ember.dim_sizes}}
  %0 = ember.expand %a : tensor<f32> -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// Dynamic batch dims (ember.compile(dynamic=True)): an elementwise result takes the size of a
// dynamic operand; ops with ember.dim_sizes compute it from the function's symbols (dim 0 of
// argument 0 here: 2*s0 for the reshape); reductions over the dynamic dim need no size.
// CHECK-LABEL: func.func @dynamic_batch
// CHECK-SAME: (%[[X:.*]]: tensor<?x5xf32>, %[[W:.*]]: tensor<5x16xf32>, %[[B:.*]]: tensor<16xf32>, %[[S:.*]]: tensor<f32>)
func.func @dynamic_batch(%x: tensor<?x5xf32>, %w: tensor<5x16xf32>, %b: tensor<16xf32>, %s: tensor<f32>)
    -> (tensor<?x8xf32>, tensor<16xf32>, tensor<?x16xf32>) attributes {ember.symbols = array<i64: 0, 0>} {
  // CHECK: %[[N:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x5xf32>
  // CHECK: %[[E0:.*]] = tensor.empty(%[[N]]) : tensor<?x16xf32>
  // CHECK: %[[MM:.*]] = linalg.matmul
  %0 = ember.matmul %x, %w {ember.dim_sizes = array<i64: 0, 1, 16, 0>} : tensor<?x5xf32>, tensor<5x16xf32>
  // CHECK: %[[M:.*]] = tensor.dim %[[MM]], %{{.*}} : tensor<?x16xf32>
  // CHECK: tensor.empty(%[[M]]) : tensor<?x16xf32>
  // CHECK: %[[ADD:.*]] = linalg.generic
  %1 = ember.add %0, %b : tensor<?x16xf32>, tensor<16xf32>
  // CHECK: %[[N2:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x5xf32>
  // CHECK: %[[R:.*]] = arith.muli %{{.*}}, %[[N2]] : index
  // CHECK: %[[FLAT:.*]] = tensor.collapse_shape %[[ADD]] {{\[\[}}0, 1]] : tensor<?x16xf32> into tensor<?xf32>
  // CHECK: tensor.expand_shape %[[FLAT]] {{\[\[}}0, 1]] output_shape [%[[R]], 8] : tensor<?xf32> into tensor<?x8xf32>
  %2 = ember.reshape %1 {ember.dim_sizes = array<i64: 0, 2, 8, 0>} : tensor<?x16xf32> -> tensor<?x8xf32>
  // CHECK: tensor.empty() : tensor<16xf32>
  // CHECK: iterator_types = ["reduction", "parallel"]
  %3 = ember.sum %1 {dims = array<i64: 0>, keepdim = false} : tensor<?x16xf32> -> tensor<16xf32>
  // CHECK: %[[N3:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x5xf32>
  // CHECK: tensor.empty(%[[N3]]) : tensor<?x16xf32>
  %4 = ember.expand %s {ember.dim_sizes = array<i64: 0, 1, 16, 0>} : tensor<f32> -> tensor<?x16xf32>
  return %2, %3, %4 : tensor<?x8xf32>, tensor<16xf32>, tensor<?x16xf32>
}

// -----

// A reshape to two dynamic dims (a bmm's 1x?x? result to ?x?, as einsum("ij,kj->ik") makes
// under dynamic=True): tensor.reshape with the sizes as a shape tensor, not a collapse and an
// expand_shape group of two dynamic dims (which MLIR 22's expand-strided-metadata crashes on).
// CHECK-LABEL: func.func @reshape_two_dynamic_dims
func.func @reshape_two_dynamic_dims(%x: tensor<1x?x?xf32>) -> tensor<?x?xf32>
    attributes {ember.symbols = array<i64: 0, 1>} {
  // CHECK-NOT: tensor.expand_shape
  // CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xindex>
  // CHECK: tensor.reshape %arg0(%[[SHAPE]]) : (tensor<1x?x?xf32>, tensor<2xindex>) -> tensor<?x?xf32>
  %0 = ember.reshape %x {ember.dim_sizes = array<i64: 0, 1, 0, 1>} : tensor<1x?x?xf32> -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// CHECK-LABEL: func.func @slicing
func.func @slicing(%a: tensor<4x6xf32>, %b: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x6xf32>, tensor<4x8xf32>) {
  // CHECK: tensor.extract_slice %arg0[0, 1] [4, 2] [1, 2] : tensor<4x6xf32> to tensor<4x2xf32>
  %0 = ember.slice %a {dim = 1, start = 1, end = 5, step = 2} : tensor<4x6xf32> -> tensor<4x2xf32>
  // CHECK: %[[Z:.*]] = linalg.fill
  // CHECK: tensor.insert_slice %arg1 into %[[Z]][0, 1] [4, 2] [1, 2] : tensor<4x2xf32> into tensor<4x6xf32>
  %1 = ember.slice_backward %b {dim = 1, start = 1, end = 5, step = 2} : tensor<4x2xf32> -> tensor<4x6xf32>
  // CHECK: tensor.insert_slice %arg0 into %{{.*}}[0, 0] [4, 6] [1, 1]
  // CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 6] [4, 2] [1, 1]
  %2 = ember.cat %a, %b {dim = 1} : tensor<4x6xf32>, tensor<4x2xf32> -> tensor<4x8xf32>
  return %0, %1, %2 : tensor<4x2xf32>, tensor<4x6xf32>, tensor<4x8xf32>
}

// -----

// CHECK-DAG: #[[P:.*]] = affine_map<(d0, d1, d2) -> (d1, d2, d0)>
// CHECK-LABEL: func.func @permute_bmm
func.func @permute_bmm(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> (tensor<4x2x3xf32>, tensor<2x3x5xf32>) {
  // CHECK: linalg.generic {indexing_maps = [#[[P]], {{.*}}]
  %0 = ember.permute %a {dims = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  // CHECK: linalg.batch_matmul ins(%arg0, %arg1 : tensor<2x3x4xf32>, tensor<2x4x5xf32>)
  %1 = ember.bmm %a, %b : tensor<2x3x4xf32>, tensor<2x4x5xf32> -> tensor<2x3x5xf32>
  return %0, %1 : tensor<4x2x3xf32>, tensor<2x3x5xf32>
}

// -----

// Bool masks: comparisons give i1, casts and selects consume them.
// CHECK-LABEL: func.func @masks
func.func @masks(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // CHECK: arith.cmpf ogt
  // CHECK: linalg.yield %{{.*}} : i1
  // CHECK: arith.uitofp %{{.*}} : i1 to f32
  // CHECK: arith.select
  %c = ember.gt %x, %y : tensor<4xf32>, tensor<4xf32>
  %f = ember.cast %c : tensor<4xi1> -> tensor<4xf32>
  %w = ember.where %c, %f, %y : tensor<4xi1>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %w : tensor<4xf32>
}

// -----

// A one-operand test lowers to a generic with an i1 result; the record's expression is the body.
// CHECK-LABEL: func.func @isinf
func.func @isinf(%x: tensor<5xf32>) -> tensor<5xi1> {
  // CHECK: linalg.generic
  // CHECK: math.absf
  // CHECK: arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
  // CHECK: linalg.yield %{{.*}} : i1
  %0 = ember.isinf %x : tensor<5xf32>
  return %0 : tensor<5xi1>
}

// -----

// Integers: the records' expressions pick arith's integer ops (signed compares; i1 compares
// unsigned); casts convert with sign; sum and amax reduce with addi / maxsi from their identity.
// CHECK-LABEL: func.func @integers
func.func @integers(%a: tensor<4xi64>, %b: tensor<4xi64>, %x: tensor<4xf32>)
    -> (tensor<4xi64>, tensor<4xi1>, tensor<4xi32>, tensor<i64>, tensor<i64>) {
  // CHECK: arith.addi %{{.*}}, %{{.*}} : i64
  // CHECK: arith.maxsi %{{.*}}, %{{.*}} : i64
  // CHECK: arith.cmpi slt, %{{.*}}, %{{.*}} : i64
  // CHECK: arith.cmpi ult, %{{.*}}, %{{.*}} : i1
  // CHECK: arith.fptosi %{{.*}} : f32 to i32
  // CHECK: arith.constant 0 : i64
  // CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]
  // CHECK: arith.addi
  // CHECK: arith.constant -9223372036854775808 : i64
  // CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]
  // CHECK: arith.maxsi
  %s = ember.add %a, %b : tensor<4xi64>, tensor<4xi64>
  %m = ember.maximum %s, %b : tensor<4xi64>, tensor<4xi64>
  %c = ember.lt %a, %m : tensor<4xi64>, tensor<4xi64>
  %d = ember.lt %c, %c : tensor<4xi1>, tensor<4xi1>
  %i = ember.cast %x : tensor<4xf32> -> tensor<4xi32>
  %n = ember.sum %m {dims = array<i64>, keepdim = false} : tensor<4xi64> -> tensor<i64>
  %k = ember.amax %a {dims = array<i64>, keepdim = false} : tensor<4xi64> -> tensor<i64>
  return %m, %d, %i, %n, %k : tensor<4xi64>, tensor<4xi1>, tensor<4xi32>, tensor<i64>, tensor<i64>
}

// -----

// A record whose expression has no integer form is reported, not lowered wrongly.
func.func @no_integer_form(%a: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{ember-lower-to-linalg: 'ember.floor_divide' has no scalar form for operands of type 'tensor<4xi64>'}}
  %0 = ember.floor_divide %a, %a : tensor<4xi64>, tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Slices of a dynamic batch: to its end (x[1:], size s0 - 1 from ember.dim_sizes) and a fixed
// window (x[:2]); the window's other dims are the input's.
// CHECK-LABEL: func.func @dynamic_slices
// CHECK-SAME: (%[[X:.*]]: tensor<?x4xf32>)
func.func @dynamic_slices(%x: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<2x4xf32>)
    attributes {ember.symbols = array<i64: 0, 0>} {
  // CHECK: %[[N:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x4xf32>
  // CHECK: %[[LEN:.*]] = arith.addi %[[N]], %{{.*}} : index
  // CHECK: tensor.extract_slice %[[X]][1, 0] [%[[LEN]], 4] [1, 1] : tensor<?x4xf32> to tensor<?x4xf32>
  %0 = ember.slice %x {dim = 0 : i64, start = 1 : i64, end = 4 : i64, step = 1 : i64, ember.dim_sizes = array<i64: -1, 1, 4, 0>} : tensor<?x4xf32> -> tensor<?x4xf32>
  // CHECK: tensor.extract_slice %[[X]][0, 0] [2, 4] [1, 1] : tensor<?x4xf32> to tensor<2x4xf32>
  %1 = ember.slice %x {dim = 0 : i64, start = 0 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x4xf32> -> tensor<2x4xf32>
  return %0, %1 : tensor<?x4xf32>, tensor<2x4xf32>
}

// -----

// prod is a reduction generic from 1: multiplies on integers (wrapping) and floats.
// CHECK-DAG: #[[ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[KEEP:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @prod
func.func @prod(%a: tensor<2x3xi64>, %f: tensor<4xf32>) -> (tensor<2x1xi64>, tensor<f32>) {
  // CHECK: %[[ONE:.*]] = arith.constant 1 : i64
  // CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ONE]] : i64) outs(%{{.*}} : tensor<2x1xi64>)
  // CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[KEEP]]], iterator_types = ["parallel", "reduction"]}
  // CHECK-SAME: outs(%[[INIT]] : tensor<2x1xi64>)
  // CHECK: arith.muli
  %0 = ember.prod %a {dims = array<i64: 1>, keepdim = true} : tensor<2x3xi64> -> tensor<2x1xi64>
  // CHECK: arith.constant 1.000000e+00 : f32
  // CHECK: linalg.generic {{.*}}iterator_types = ["reduction"]
  // CHECK: arith.mulf
  // CHECK-NOT: ember.prod
  %1 = ember.prod %f {dims = array<i64>, keepdim = false} : tensor<4xf32> -> tensor<f32>
  return %0, %1 : tensor<2x1xi64>, tensor<f32>
}

// -----

// A scan: its lines in parallel (scf.forall over the other dims), each a loop along `dim`
// carrying the running value (f64 for f32) and inserting each step's value into the line;
// reverse walks the dim backwards.
// CHECK-LABEL: func.func @cumsum_reverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
func.func @cumsum_reverse(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // CHECK: %[[E:.*]] = tensor.empty() : tensor<2x3xf32>
  // CHECK: scf.forall (%[[J:.*]]) in (3) shared_outs(%[[O:.*]] = %[[E]]) -> (tensor<2x3xf32>)
  // CHECK: %[[L:.*]] = tensor.extract_slice %[[O]][0, %[[J]]] [2, 1] [1, 1] : tensor<2x3xf32> to tensor<2xf32>
  // CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f64
  // CHECK: %[[LAST:.*]] = arith.subi
  // CHECK: %[[R:.*]]:2 = scf.for %[[K:.*]] = {{.*}} iter_args(%[[T:.*]] = %[[L]], %[[S:.*]] = %[[ZERO]]) -> (tensor<2xf32>, f64)
  // CHECK: %[[I:.*]] = arith.subi %[[LAST]], %[[K]] : index
  // CHECK: %[[V:.*]] = tensor.extract %[[X]][%[[I]], %[[J]]]
  // CHECK: %[[W:.*]] = arith.extf %[[V]] : f32 to f64
  // CHECK: %[[N:.*]] = arith.addf %[[S]], %[[W]] : f64
  // CHECK: %[[F:.*]] = arith.truncf %[[N]] : f64 to f32
  // CHECK: %[[U:.*]] = tensor.insert %[[F]] into %[[T]][%[[I]]]
  // CHECK: scf.yield %[[U]], %[[N]]
  // CHECK: scf.forall.in_parallel
  // CHECK: tensor.parallel_insert_slice %[[R]]#0 into %[[O]][0, %[[J]]] [2, 1] [1, 1] : tensor<2xf32> into tensor<2x3xf32>
  // CHECK-NOT: ember.cumsum
  %0 = ember.cumsum %x {dim = 0 : i64, reverse = true} : tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// cumprod on i64 runs in i64 from 1, forwards; a dynamic dim bounds the forall by tensor.dim.
// CHECK-LABEL: func.func @cumprod_dynamic
// CHECK-SAME: (%[[X:.*]]: tensor<?x5xi64>)
func.func @cumprod_dynamic(%x: tensor<?x5xi64>) -> tensor<?x5xi64>
    attributes {ember.symbols = array<i64: 0, 0>} {
  // CHECK: %[[B:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x5xi64>
  // CHECK: tensor.empty(%[[B]]) : tensor<?x5xi64>
  // CHECK: %[[N:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x5xi64>
  // CHECK: scf.forall (%[[I:.*]]) in (%[[N]])
  // CHECK: %[[ONE:.*]] = arith.constant 1 : i64
  // CHECK: scf.for %[[K:.*]] = {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[P:.*]] = %[[ONE]]) -> (tensor<5xi64>, i64)
  // CHECK: %[[V:.*]] = tensor.extract %[[X]][%[[I]], %[[K]]]
  // CHECK: arith.muli %[[P]], %[[V]] : i64
  %0 = ember.cumprod %x {dim = 1 : i64, ember.dim_sizes = array<i64: 0, 1, 5, 0>} : tensor<?x5xi64>
  return %0 : tensor<?x5xi64>
}

// -----

// A 1-D scan is one line: the loop alone, into the whole result.
// CHECK-LABEL: func.func @cumsum_1d
func.func @cumsum_1d(%x: tensor<6xi64>) -> tensor<6xi64> {
  // CHECK-NOT: scf.forall
  // CHECK: scf.for
  // CHECK: arith.addi
  // CHECK: tensor.insert %{{.*}} into %{{.*}}[%{{.*}}] : tensor<6xi64>
  %0 = ember.cumsum %x {dim = 0 : i64} : tensor<6xi64>
  return %0 : tensor<6xi64>
}

// -----

// unfold: one copy generic reading input[.., w * step + k].
// CHECK: #[[WIN:.*]] = affine_map<(d0, d1, d2) -> (d0, d1 * 2 + d2)>
// CHECK-LABEL: func.func @unfold
func.func @unfold(%a: tensor<2x7xf32>) -> tensor<2x3x3xf32> {
  // CHECK: linalg.generic {indexing_maps = [#[[WIN]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel"]}
  // CHECK-SAME: ins(%{{.*}} : tensor<2x7xf32>) outs(%{{.*}} : tensor<2x3x3xf32>)
  // CHECK-NOT: ember.unfold
  %0 = ember.unfold %a {dim = 1 : i64, size = 3 : i64, step = 2 : i64} : tensor<2x7xf32> -> tensor<2x3x3xf32>
  return %0 : tensor<2x3x3xf32>
}

// -----

// argsort bufferizes itself (ember-sort-to-runtime-call lowers its memref form): left alone.
// CHECK-LABEL: func.func @argsort_stays
func.func @argsort_stays(%a: tensor<4x7xf32>) -> tensor<4x3xi64> {
  // CHECK: ember.argsort %{{.*}} {descending = true, dim = 1 : i64} : tensor<4x7xf32> -> tensor<4x3xi64>
  %0 = ember.argsort %a {dim = 1 : i64, descending = true} : tensor<4x7xf32> -> tensor<4x3xi64>
  return %0 : tensor<4x3xi64>
}
