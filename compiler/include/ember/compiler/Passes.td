#ifndef EMBER_COMPILER_PASSES_TD
#define EMBER_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def FuseElementwise : Pass<"ember-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Group chains of elementwise ember ops into ember.fusion kernels";
  let description = [{
    Starting from each elementwise op, pulls in the elementwise producers of its operands that
    have the same result shape and no other users, and moves the group into the body of one
    `ember.fusion` op: the CPU backend makes one loop nest of it, the CUDA backend one kernel,
    and the intermediates never reach memory. Groups of one op are left alone.
  }];
}

def FuseConv : Pass<"ember-fuse-conv", "mlir::func::FuncOp"> {
  let summary = "Turn im2col + matmul chains into ember.conv2d and its gradient ops (CPU)";
  let description = [{
    Traced convolutions are compositions: `matmul(w, im2col(x))` for the forward,
    `matmul(g, transpose(im2col(x)))` for the weight gradient and
    `col2im(matmul(transpose(w), g))` for the input gradient (im2col filling zeros, static f32
    shapes). Each becomes one `ember.conv2d`, `ember.conv2d_weight_grad` or
    `ember.conv2d_input_grad`, which the CPU backend runs as an implicit GEMM that never
    writes the columns; the [O, N*oh*ow] layout of the matmuls is kept around them with
    reshapes and a permute. Columns left without users disappear.
  }];
}

def FusePool : Pass<"ember-fuse-pool", "mlir::func::FuncOp"> {
  let summary = "Turn traced max pooling and its gradient into ember.max_pool2d ops (CPU)";
  let description = [{
    A traced max_pool2d is `amax(im2col(x, pad_value = -inf), dims = [0])` over x as
    [N*C, 1, H, W]; its gradient is amax's VJP over the same columns (a mask of the maxima,
    the cotangent shared between ties) scattered back by `col2im`. With static f32 shapes the
    first becomes `ember.max_pool2d` and the second `ember.max_pool2d_grad`, which finds each
    window's maximum again in x and gives it the whole cotangent (PyTorch's rule, and the
    eager kernel's); the CPU backend calls ember's pooling kernels for both, so no columns
    are written. Columns something else still reads (max_pool2d's indices) stay for it.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def LowerToLinalg : Pass<"ember-lower-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower ember ops to linalg on tensors";
  let description = [{
    Elementwise ops and whole `ember.fusion` kernels become one `linalg.generic` each whose
    body is built from the op records' scalar expressions (arith's float, integer or i1 ops by
    the operands' type; an expression with no form for its operand type, such as floor_divide
    on i64, is reported and the pass fails); broadcasting becomes the operands' indexing maps.
    `ember.sum`/`prod`/`amax`/`amin` become reduction `linalg.generic`s, `ember.matmul` a
    `linalg.matmul`, `ember.transpose`/`ember.expand`/`ember.unfold` `linalg.generic` copies
    (unfold reads through an affine map `w * step + k`), `ember.reshape` a
    collapse/expand_shape pair, and `ember.cumsum`/`ember.cumprod` an `scf.forall` over the
    lines along the scanned dimension (the pipeline's `scf-forall-to-parallel` and
    `ember-outline-parallel-loops` put it on the thread pool), each line an `scf.for` carrying
    the running value (f64 for f32) and inserting it into the line. Dynamic dims are sized from the ops' `ember.dim_sizes`
    (DynamicShapes.h).
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect",
    "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect",
    "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect",
  ];
}

def LowerIndexing : Pass<"ember-lower-indexing", "mlir::ModuleOp"> {
  let summary = "Lower ember's indexing ops (index_select, gather, scatter, argmax, ...) to linalg/scf";
  let description = [{
    `ember.index_select` and `ember.gather` become parallel `linalg.generic`s over the result
    that read the input with `tensor.extract` at the position the index gives;
    `ember.scatter`, `ember.scatter_add` and `ember.index_add` become sequential `scf.for`
    nests over the index (or source) carrying the result tensor (`tensor.extract` /
    `tensor.insert`, in place after bufferization; repeated indices accumulate in order);
    `ember.argmax` / `ember.argmin` become reduction `linalg.generic`s with two accumulators
    (the best value and its position: first wins, NaN is the extreme). Every index read from
    data is checked: one outside its range calls `ember_index_error(op, index, dim, size)`
    (declared here, defined by ember's runtime, which records it for the caller to raise after
    the call) and is replaced by 0, so no access leaves its buffer.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect",
    "mlir::func::FuncDialect",
    "mlir::linalg::LinalgDialect",
    "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect",
  ];
}

def MatmulToRuntimeCall : Pass<"ember-matmul-to-runtime-call", "mlir::ModuleOp"> {
  let summary = "Call ember's CPU GEMM kernel for f32 linalg.matmul on memrefs";
  let description = [{
    After bufferization, replaces each f32 `linalg.matmul` on 2-D memrefs with a call to
    `ember_cpu_matmul_acc_f32` (C += A @ B, linalg.matmul's semantics), ember's blocked and
    vectorized GEMM kernel, instead of the naive loop nest the generic lowering would make.
    The JIT resolves the symbol to kernels/ (`compiler::cpuRuntimeSymbols`).
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::memref::MemRefDialect"];
}

def ApproximateMath : Pass<"ember-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Replace f32 transcendental math ops with branch-free polynomial approximations";
  let description = [{
    Rewrites `math.tanh`, `math.erf`, `math.exp`, `math.expm1`, `math.log`, `math.log1p`,
    `math.log2`, `math.atan` and `math.erfc` on f32 into arith/math ops (MLIR's polynomial
    approximations, accurate to a few ulp) so that the loops built from fused kernels contain
    no libm calls and LLVM's loop vectorizer can vectorize them. log and log2 first scale a
    subnormal input into the normal range (the approximation reads the exponent bits). sin,
    cos and atan2 are left to libm (the approximations lose accuracy for large arguments and
    the sign of zero), as are other types.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect",
    "mlir::math::MathDialect",
    "mlir::vector::VectorDialect",
  ];
}

def DistinctResults : Pass<"ember-distinct-results", "mlir::func::FuncOp"> {
  let summary = "Give each result of a function its own tensor (copy results returned twice)";
  let description = [{
    A function that returns one value several times (`return %v, %v`: the same tensor twice,
    or two equal expressions that CSE merged, as the joint graph of `(a + b) * 3` makes for
    the gradients of a and b) gets a copy (`bufferization.alloc_tensor copy(%v)`) for each
    repetition after the first, so that after bufferization every result is its own buffer:
    `buffer-results-to-out-params` hoists each result's allocation into its out-parameter and
    cannot hoist one allocation into two. Run after the last CSE, before bufferization.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect"];
}

def OutlineParallelLoops : Pass<"ember-outline-parallel-loops", "mlir::ModuleOp"> {
  let summary = "Run large scf.parallel loops on ember's thread pool";
  let description = [{
    Each outermost `scf.parallel` without reductions whose static work (its iterations times
    those of the deepest constant-bound `scf.for` nest inside) reaches `min-work` is outlined into a private function `@<func>_par<N>(ctx, begin, end)` that
    runs the first dimension over `[begin, end)` (the others whole) as `scf.for` loops, and is
    replaced by a call of `ember_parallel_for(fn, ctx, lb, ub, work_per_iteration)`, which
    splits the first dimension across ember's thread pool. The values the loop captures
    (memrefs as their LLVM descriptors, index and scalar values) travel in a stack struct
    `ctx`; constants are cloned into the outlined function. A dynamic upper bound (over
    `[0, ub)` in steps of 1: a dynamic batch) is outlined whatever the size: the first
    dimension's is the call's `ub`, an inner one travels in `ctx` and scales the work per
    iteration (`ember_parallel_for` runs small loops on the calling thread). Loops with other
    captures, a non-unit first step or other non-constant bounds stay where they are. The runtime symbol lives in
    ember's kernel runtime, so JIT code and ahead-of-time libraries both resolve it.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "32768",
           "Smallest amount of work (innermost iterations) worth running on the thread pool">,
  ];
  let dependentDialects = [
    "mlir::LLVM::LLVMDialect",
    "mlir::scf::SCFDialect",
    "mlir::func::FuncDialect",
    "mlir::arith::ArithDialect",
  ];
}

def WindowToRuntimeCall : Pass<"ember-window-to-runtime-call", "mlir::ModuleOp"> {
  let summary = "Call ember's CPU window kernels for the window, conv and pooling ops on memrefs";
  let description = [{
    After bufferization, replaces each `ember.im2col` and `ember.col2im` in memref form with a
    call to `ember_cpu_im2col_f32` / `ember_cpu_col2im_f32`, ember's threaded sliding-window
    kernels (`kernels/cpu/Conv.cpp`), and likewise the convolution ops (`ember_cpu_conv2d_*`)
    and `ember.max_pool2d` / `ember.max_pool2d_grad` (`ember_cpu_max_pool2d_f32`,
    `ember_cpu_max_pool2d_grad_f32`), passing the memrefs (cast to fully dynamic strided
    layouts: the kernels copy non-row-major buffers) and the window geometry as i64 scalars
    (kh, kw, sh, sw, pad top, pad left, dh, dw, oh, ow) and, for im2col, the f32 value read
    outside the image. The JIT and the AOT runtime library resolve the symbols
    (`compiler::cpuRuntimeSymbols`). Tensor-form ops are left alone.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect"];
}

def SortToRuntimeCall : Pass<"ember-sort-to-runtime-call", "mlir::ModuleOp"> {
  let summary = "Call ember's CPU sort kernel for ember.argsort on memrefs";
  let description = [{
    After bufferization, replaces each `ember.argsort` in memref form with a call to
    `ember_cpu_argsort_{f32,i64,i32,i1}(input, output, dim, descending)`, ember's threaded
    stable sort over the lines along `dim` (`kernels/Sort.h`, the eager kernel too: NaN largest,
    equal values in order, a partial sort when the output keeps the first k). The memrefs go as
    unranked memrefs, so one entry serves every rank and layout. The JIT and the AOT runtime
    library resolve the symbols (`compiler::cpuRuntimeSymbols`). Tensor-form ops are left alone.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect", "mlir::func::FuncDialect",
                           "mlir::memref::MemRefDialect"];
}

#endif // EMBER_COMPILER_PASSES_TD
