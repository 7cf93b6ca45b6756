// MLIR -> LLVM -> ORC works in this build: ember.add lowered and run on real buffers.
#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/compiler/Jit.h"
#include "ember/compiler/JitCache.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <vector>

using namespace ember;
using compiler::Buffer;
using compiler::JitModule;

namespace {
Buffer buf(Tensor& t) { return {t.data_ptr(), t.shape(), t.strides()}; }
} // namespace

TEST(Jit, AddMatchesEager) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @f(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
      %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
      return %0 : tensor<2x3xf32>
    })mlir");
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector({10, 20, 30}, {3});
  Tensor out = zeros({2, 3});
  m.run("f", {buf(a), buf(b)}, {buf(out)});
  EXPECT_EQ(out.to_vector(), add(a, b).to_vector());
  // The lowered IR is kept when this process lowered the module; a disk-cache hit (a second
  // run of this binary with the default cache) loads the object and has none.
  if (m.times().fromDiskCache)
    EXPECT_TRUE(m.loweredIR().empty());
  else
    EXPECT_NE(m.loweredIR().find("llvm.func"), std::string::npos);
}

TEST(Jit, ChainedAddsAndRepeatedCalls) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @g(%a: tensor<4x1xf32>, %b: tensor<5xf32>) -> tensor<4x5xf32> {
      %0 = ember.add %a, %b : tensor<4x1xf32>, tensor<5xf32>
      %1 = ember.add %0, %0 : tensor<4x5xf32>, tensor<4x5xf32>
      return %1 : tensor<4x5xf32>
    })mlir");
  for (int iter = 0; iter < 3; ++iter) {
    Tensor a = full({4, 1}, float(iter));
    Tensor b = from_vector({1, 2, 3, 4, 5}, {5});
    Tensor out = zeros({4, 5});
    m.run("g", {buf(a), buf(b)}, {buf(out)});
    Tensor s = add(a, b);
    EXPECT_EQ(out.to_vector(), add(s, s).to_vector());
  }
}

TEST(Jit, InvalidIRIsAnEmberError) {
  try {
    JitModule::compile(R"mlir(
      func.func @bad(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
        %0 = ember.add %a, %b : tensor<2x3xf32>, tensor<4xf32>
        return %0 : tensor<2x3xf32>
      })mlir");
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.context(), "compiler.parse");
    EXPECT_NE(std::string(e.what()).find("not broadcast-compatible"), std::string::npos)
        << e.what();
  }
}

TEST(Jit, WrongBufferShapeIsAnEmberError) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @f(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<3xf32> {
      %0 = ember.add %a, %b : tensor<3xf32>, tensor<3xf32>
      return %0 : tensor<3xf32>
    })mlir");
  Tensor a = ones({4}), out = zeros({3});
  EXPECT_THROW(m.run("f", {buf(a), buf(a)}, {buf(out)}), Error);
  EXPECT_THROW(m.run("nope", {}, {}), Error);
}

// Integer values: an i64 gather by i64 indices, an i1 comparison, the dtypes in the signature,
// a buffer of the wrong dtype refused, an out-of-range index raised after the call.
TEST(Jit, IntegerBuffersAndIndexErrors) {
  JitModule m = JitModule::compile(R"mlir(
    func.func @pick(%x: tensor<2x4xi64>, %i: tensor<2x1xi64>) -> (tensor<2x1xi64>, tensor<2x1xi1>) {
      %0 = ember.gather %x, %i {dim = 1 : i64} : tensor<2x4xi64>, tensor<2x1xi64> -> tensor<2x1xi64>
      %1 = ember.gt %0, %i : tensor<2x1xi64>, tensor<2x1xi64>
      return %0, %1 : tensor<2x1xi64>, tensor<2x1xi1>
    })mlir");
  EXPECT_EQ(m.inputDTypes("pick"), (std::vector<DType>{DType::Int64, DType::Int64}));
  EXPECT_EQ(m.outputDTypes("pick"), (std::vector<DType>{DType::Int64, DType::Bool}));
  Tensor x = from_vector({5, 6, 7, 8, 1, 2, 3, 4}, {2, 4}).to(DType::Int64);
  Tensor idx = from_vector({2, 0}, {2, 1}).to(DType::Int64);
  Tensor got = empty({2, 1}, DType::Int64), gt = empty({2, 1}, DType::Bool);
  auto b = [](Tensor& t) { return Buffer{t.raw_data(), t.shape(), t.strides(), t.dtype()}; };
  m.run("pick", {b(x), b(idx)}, {b(got), b(gt)});
  EXPECT_EQ(got.data<int64_t>()[0], 7);
  EXPECT_EQ(got.data<int64_t>()[1], 1);
  EXPECT_TRUE(gt.data<bool>()[0]);
  EXPECT_TRUE(gt.data<bool>()[1]);
  Tensor f = from_vector({0, 0}, {2, 1});
  EXPECT_THROW(m.run("pick", {b(x), b(f)}, {b(got), b(gt)}), Error); // float32 index buffer
  Tensor bad = from_vector({1, 4}, {2, 1}).to(DType::Int64);
  try {
    m.run("pick", {b(x), b(bad)}, {b(got), b(gt)});
    FAIL() << "expected an IndexError";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Index);
    EXPECT_NE(std::string(e.what()).find("ember.gather: index 4 is out of bounds for dimension 1 "
                                         "with size 4"), std::string::npos) << e.what();
  }
  m.run("pick", {b(x), b(idx)}, {b(got), b(gt)}); // the status was per call
  EXPECT_EQ(got.data<int64_t>()[0], 7);
}

// Several threads compiling the same IR with the disk cache on: every one gets working code,
// and the entry they leave behind loads and runs (each thread dumps its object to its own
// temporary file; the cache serialises its bookkeeping).
TEST(Jit, ConcurrentCompilesShareTheDiskCache) {
  char dirTemplate[] = "/tmp/ember-jit-cache-XXXXXX";
  ASSERT_NE(mkdtemp(dirTemplate), nullptr);
  const std::string dir = dirTemplate;
  const char* disabled = std::getenv("EMBER_DISABLE_CACHE");
  const std::string saved = disabled ? disabled : "";
  unsetenv("EMBER_DISABLE_CACHE");
  setenv("EMBER_CACHE_DIR", dir.c_str(), 1);
  compiler::JitCache::instance().configure();
  const std::string ir = R"mlir(
    func.func @f(%a: tensor<64x64xf32>, %b: tensor<64x64xf32>) -> tensor<64x64xf32> {
      %0 = ember.mul %a, %b : tensor<64x64xf32>, tensor<64x64xf32>
      %1 = ember.tanh %0 : tensor<64x64xf32>
      return %1 : tensor<64x64xf32>
    })mlir";
  Tensor a = full({64, 64}, 0.5f), b = full({64, 64}, 2.0f);
  const std::vector<float> want = tanh(mul(a, b)).to_vector();
  auto compileAndRun = [&] {
    JitModule m = JitModule::compile(ir);
    Tensor out = zeros({64, 64});
    m.run("f", {buf(a), buf(b)}, {buf(out)});
    return out.to_vector();
  };
  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { results[t] = compileAndRun(); });
  for (auto& th : threads) th.join();
  for (const auto& r : results)
    for (size_t i = 0; i < r.size(); ++i) ASSERT_NEAR(r[i], want[i], 1e-6);
  const int64_t hitsBefore = compiler::JitCache::instance().stats().hits;
  const std::vector<float> again = compileAndRun(); // from the cache entry
  EXPECT_EQ(compiler::JitCache::instance().stats().hits, hitsBefore + 1);
  for (size_t i = 0; i < again.size(); ++i) ASSERT_NEAR(again[i], want[i], 1e-6);
  unsetenv("EMBER_CACHE_DIR");
  if (disabled) setenv("EMBER_DISABLE_CACHE", saved.c_str(), 1);
  compiler::JitCache::instance().configure();
  std::filesystem::remove_all(dir);
}
