// The eager CUDA kernels without a GPU: every kernel the dispatcher can generate (each op record
// for each dtype its rule reaches, copies between every pair of dtypes, reductions, arg
// reductions, indexing) compiles with NVRTC for sm_80 and sm_90.
#include "ember/Ops.h"
#include "ember/kernels/CudaSource.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/Nvrtc.h"

#include <gtest/gtest.h>

using namespace ember;
namespace ks = ember::kernels::cuda;

namespace {

const DType kAll[] = {DType::Bool,    DType::UInt8,    DType::Int8,    DType::Int16,
                      DType::Int32,   DType::Int64,    DType::Float16, DType::BFloat16,
                      DType::Float32, DType::Float64};

// Kernels share one prelude: compile many per NVRTC call by keeping the first prelude only.
struct Batch {
  std::string source;
  int kernels = 0;
  void add(const std::string& src) {
    const std::string p = ks::prelude();
    std::string body = src;
    if (!source.empty()) {
      auto at = body.find(p);
      ASSERT_NE(at, std::string::npos);
      body.erase(at, p.size());
    }
    source += body;
    ++kernels;
  }
  // NVRTC's front end checks the source once (PTX); ptxas then builds sm_80 and sm_90 code
  // for the `full` batches (ptxas dominates the time, so not every dtype pays it twice).
  void compile(const std::string& what, bool full) {
    std::vector<const char*> archs = {"compute_80"};
    if (full) archs = {"sm_80", "sm_90"};
    for (const char* arch : archs) {
      cuda::CompiledKernel k = cuda::nvrtc_compile(source, what + ".cu", arch);
      EXPECT_GT(k.image.size(), 100u) << what << " for " << arch;
    }
  }
};

bool nvrtc_or_skip() { return cuda::nvrtc_available(); }

} // namespace

TEST(CudaKernels, EveryRecordForEveryDtypeCompiles) {
  if (!nvrtc_or_skip()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  int total = 0;
  for (DType d : kAll) {
    Batch batch;
    int i = 0;
    for (int pi = 0; pi < int(Prim::MatMul); ++pi) {
      const Prim p = static_cast<Prim>(pi);
      if (!prim_is_elementwise(p)) continue;
      Tensor x = ones({1}, d);
      DType out;
      try { // a rule that refuses this dtype (bitwise ops on floats) generates no kernel for it
        out = ember::apply(p, prim_arity(p) == 1 ? std::vector<Tensor>{x}
                                                 : std::vector<Tensor>{x, x}).dtype();
      } catch (const Error&) {
        continue;
      }
      const DType cd = compute_dtype(p, {x, x});
      std::vector<ks::PointwiseInput> in(prim_arity(p), {d, cd, false});
      // The strided variant differs only in its index arithmetic: compile it for the dtypes
      // that go through ptxas (below) and keep the others' batches small.
      const bool full = d == DType::Float32 || d == DType::Float16 || d == DType::Int64;
      for (bool contiguous : {true, false}) {
        if (!contiguous && !full) continue;
        const std::string name = std::string("k") + std::to_string(i++) + "_" + prim_name(p);
        batch.add(ks::pointwise_kernel(name, prim_expr(p), cd, out, in, contiguous));
      }
      // The vectorized dense variant (four elements per access).
      if (d == DType::Float32 || d == DType::Float16)
        batch.add(ks::pointwise_kernel("k" + std::to_string(i++) + "_v", prim_expr(p), cd, out, in,
                                       true, true));
      // With a scalar (a Python number) as the second operand.
      if (prim_arity(p) == 2) {
        in[1].scalar = true;
        batch.add(ks::pointwise_kernel("k" + std::to_string(i++), prim_expr(p), cd, out, in, false));
      }
    }
    batch.compile(std::string("records_") + dtype_name(d),
                  d == DType::Float32 || d == DType::Float16 || d == DType::Int64);
    total += batch.kernels;
  }
  EXPECT_GT(total, 10 * 40 + 3 * 40);
}

TEST(CudaKernels, CopiesWhereReductionsAndIndexingCompile) {
  if (!nvrtc_or_skip()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  Batch batch;
  int i = 0;
  auto name = [&] { return "k" + std::to_string(i++); };
  for (DType to : kAll) {
    for (DType from : kAll) {
      batch.add(ks::pointwise_kernel(name(), "a", to, to, {{from, to, false}}, false));
      if (to == DType::Float32 || from == DType::Float32)
        batch.add(ks::pointwise_kernel(name(), "a", to, to, {{from, to, false}}, true, true));
    }
    batch.add(ks::pointwise_kernel(name(), "a", to, to, {{DType::Float64, to, true}}, true));
    batch.add(ks::pointwise_kernel(name(), "where(a, b, c)", to, to,
                                   {{DType::Bool, DType::Bool, false}, {to, to, false},
                                    {to, to, true}}, false));
    const DType acc = is_floating(to) ? (to == DType::Float64 ? DType::Float64 : DType::Float32)
                                      : DType::Int64;
    for (auto op : {ks::ReduceOp::Sum, ks::ReduceOp::Prod})
      batch.add(ks::reduce_kernel(name(), op, to, acc, is_floating(to) ? to : DType::Int64));
    for (auto op : {ks::ReduceOp::Max, ks::ReduceOp::Min})
      batch.add(ks::reduce_kernel(name(), op, to, is_floating(to) ? acc : to, to));
    batch.add(ks::column_reduce_kernel(name(), ks::ReduceOp::Sum, to, acc, is_floating(to) ? to : DType::Int64));
    batch.add(ks::column_reduce_kernel(name(), ks::ReduceOp::Max, to, is_floating(to) ? acc : to, to));
    batch.add(ks::arg_reduce_kernel(name(), true, to));
    batch.add(ks::arg_reduce_kernel(name(), false, to));
    batch.add(ks::index_select_kernel(name(), to));
  }
  for (DType d : {DType::Float32, DType::Float64, DType::Int32, DType::Int64})
    batch.add(ks::index_add_kernel(name(), d));
  batch.compile("structural", true);
}

TEST(CudaKernels, GatherScatterScanSortWindowsAndRandomCompile) {
  if (!nvrtc_or_skip()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  Batch batch;
  int i = 0;
  auto name = [&] { return "k" + std::to_string(i++); };
  for (DType d : kAll) {
    batch.add(ks::gather_kernel(name(), d));
    batch.add(ks::scatter_kernel(name(), d, false));
    batch.add(ks::argsort_kernel(name(), d));
    const DType acc = !is_floating(d) ? DType::Int64
                      : d == DType::Float16 || d == DType::BFloat16 ? DType::Float32 : DType::Float64;
    const DType out = is_floating(d) ? d : DType::Int64;
    for (bool prod : {false, true})
      for (bool reverse : {false, true}) batch.add(ks::scan_kernel(name(), d, acc, out, prod, reverse));
    if (is_floating(d)) {
      batch.add(ks::im2col_kernel(name(), d));
      batch.add(ks::col2im_kernel(name(), d));
    }
  }
  for (DType d : {DType::Float32, DType::Float64, DType::Int32, DType::Int64})
    batch.add(ks::scatter_kernel(name(), d, true));
  for (DType d : {DType::Float16, DType::BFloat16, DType::Float32, DType::Float64})
    for (bool normal : {false, true}) batch.add(ks::random_kernel(name(), d, normal));
  EXPECT_THROW(ks::scatter_kernel("x", DType::BFloat16, true), Error);
  batch.compile("gather_scatter_scan_sort_windows", true);
}

TEST(CudaKernels, FusedSoftmaxAndLayerNormRowKernelsCompile) {
  if (!nvrtc_or_skip()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  Batch batch;
  int i = 0;
  auto name = [&] { return "k" + std::to_string(i++); };
  for (DType d : {DType::Float32, DType::Float16, DType::BFloat16, DType::Float64}) {
    for (bool log : {false, true}) {
      batch.add(ks::softmax_kernel(name(), d, log));
      batch.add(ks::softmax_backward_kernel(name(), d, log));
    }
    batch.add(ks::layer_norm_kernel(name(), d));
    batch.add(ks::layer_norm_backward_kernel(name(), d));
  }
  // Float arithmetic stays float: no double literal or double math in the float32 kernels.
  const std::string sm = ks::softmax_kernel("sm", DType::Float32, false);
  EXPECT_NE(sm.find("expf(m - v)"), std::string::npos) << sm;
  EXPECT_EQ(sm.find("(double)"), std::string::npos) << sm;
  batch.compile("softmax_layer_norm_rows", true);
}

TEST(CudaKernels, FusedOptimizerKernelsCompile) {
  if (!nvrtc_or_skip()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  for (DType d : {DType::Float32, DType::Float64})
    for (const char* kind : {"sgd", "adam", "rmsprop", "adagrad"}) {
      const std::string source = ks::optimizer_kernel(std::string("opt_") + kind, kind, d);
      // one translation unit per kernel: each declares its own EmberOptimArgs and T
      cuda::CompiledKernel k = cuda::nvrtc_compile(source, std::string(kind) + ".cu", "sm_90");
      EXPECT_GT(k.image.size(), 100u) << kind;
    }
  const std::string adam = ks::optimizer_kernel("a", "adam", DType::Float32);
  EXPECT_NE(adam.find("typedef float T;"), std::string::npos) << adam;
  EXPECT_THROW(ks::optimizer_kernel("x", "lamb", DType::Float32), Error);
  EXPECT_THROW(ks::optimizer_kernel("x", "sgd", DType::Float16), Error);
}

TEST(CudaKernels, RowsPointwiseKernelsCompile) {
  if (!nvrtc_or_skip()) GTEST_SKIP() << cuda::nvrtc_unavailable_reason();
  Batch batch;
  int i = 0;
  auto name = [&] { return "k" + std::to_string(i++); };
  for (DType d : {DType::Float32, DType::Float16, DType::BFloat16, DType::Float64, DType::Int64}) {
    const ks::PointwiseInput in{d, d, false}, scalar{DType::Float64, d, true};
    batch.add(ks::rows_pointwise_kernel(name(), "a + b", d, d, {in, in}, "vb"));
    batch.add(ks::rows_pointwise_kernel(name(), "a * b + c", d, d, {in, in, scalar}, "bvs"));
  }
  EXPECT_THROW(ks::rows_pointwise_kernel("x", "a + b", DType::Float32, DType::Float32,
                                         {{DType::Float32, DType::Float32, false}}, "vv"),
               Error);
  batch.compile("rows_pointwise", true);
}

TEST(CudaKernels, GeneratedSourceReadsTheRecordAndItsLayout) {
  const std::string contiguous = ks::pointwise_kernel(
      "ember_mul_f16", prim_expr(Prim::Mul), DType::Float16, DType::Float16,
      {{DType::Float16, DType::Float16, false}, {DType::Float16, DType::Float16, true}}, true);
  // The record's expression, float16 widened to float, the scalar by value, dense offsets.
  EXPECT_NE(contiguous.find("return (a * b);"), std::string::npos) << contiguous;
  EXPECT_NE(contiguous.find("ember_store_f16((float)(ember_ops::ember_mul_f16_f((float)("
                            "ember_load_f16(in0[o1])), (float)(s1))))"),
            std::string::npos) << contiguous;
  EXPECT_NE(contiguous.find("const long long o1 = i;"), std::string::npos);
  const std::string strided = ks::pointwise_kernel(
      "ember_relu_i8", prim_expr(Prim::Relu), DType::Int8, DType::Int8,
      {{DType::Int8, DType::Int8, false}}, false);
  EXPECT_NE(strided.find("o1 += c * ix.stride[1][d];"), std::string::npos) << strided;
  EXPECT_THROW(ks::index_add_kernel("x", DType::Float16), Error);
  // The vectorized variant: one aligned 4-wide access per operand, a scalar by value, and
  // the remainder element by element.
  const std::string vec = ks::pointwise_kernel(
      "ember_add_f32", prim_expr(Prim::Add), DType::Float32, DType::Float32,
      {{DType::Float32, DType::Float32, false}, {DType::Float32, DType::Float32, true}}, true, true);
  EXPECT_NE(vec.find("const EmberVec4<float> x0 = *(const EmberVec4<float>*)(in0 + v * 4);"),
            std::string::npos) << vec;
  EXPECT_EQ(vec.find("EmberVec4<float> x1"), std::string::npos) << vec;
  EXPECT_NE(vec.find("for (long long i = n / 4 * 4 + "), std::string::npos) << vec;
  // Float arithmetic keeps the record's constants float; double arithmetic keeps them double.
  const std::string gelu_f = ks::pointwise_kernel("g", prim_expr(Prim::Gelu), DType::Float32,
                                                  DType::Float32, {{DType::Float32, DType::Float32, false}}, true);
  EXPECT_NE(gelu_f.find("return (a * 0.5f * erfc(a * -0.7071067811865476f));"), std::string::npos) << gelu_f;
  const std::string gelu_d = ks::pointwise_kernel("g", prim_expr(Prim::Gelu), DType::Float64,
                                                  DType::Float64, {{DType::Float64, DType::Float64, false}}, true);
  EXPECT_NE(gelu_d.find("return (a * 0.5 * erfc(a * -0.7071067811865476));"), std::string::npos) << gelu_d;
  // Strided kernels divide in 32 bits while the element count allows.
  EXPECT_NE(strided.find("if (n < 2147483648LL) {"), std::string::npos) << strided;
}
