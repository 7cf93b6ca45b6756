// The runtime under the tensors: thread pool, caching allocator, dtypes.
#include "ember/runtime/Allocator.h"
#include "ember/runtime/DType.h"
#include "ember/runtime/Error.h"
#include "ember/runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <vector>

using namespace ember;

TEST(ThreadPool, ChunksCoverTheRangeOnce) {
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    std::vector<std::atomic<int>> hits(10007);
    parallel_for(10007, 100, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  set_num_threads(2);
}

TEST(ThreadPool, NestedRegionsRunSerially) {
  set_num_threads(2);
  std::atomic<int64_t> total{0};
  parallel_for(4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      parallel_for(1000, 10, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
  });
  EXPECT_EQ(total.load(), 4000);
}

TEST(ThreadPool, ManyRegionsInARow) {
  set_num_threads(2);
  for (int r = 0; r < 2000; ++r) {
    std::atomic<int64_t> sum{0};
    parallel_for(64, 1, [&](int64_t b, int64_t e) { sum += e - b; });
    ASSERT_EQ(sum.load(), 64);
  }
}

TEST(ThreadPool, BadThreadCountIsAnError) { EXPECT_THROW(set_num_threads(0), Error); }

TEST(Allocator, ReusesFreedBlocksAndIsAligned) {
  host_empty_cache();
  auto before = host_allocator_stats();
  void* a = host_alloc(3 << 20);
  ASSERT_EQ(reinterpret_cast<uintptr_t>(a) % kHostAlignment, 0u);
  host_free(a, 3 << 20);
  void* b = host_alloc((3 << 20) - 100); // same size class
  EXPECT_EQ(a, b);
  host_free(b, (3 << 20) - 100);
  auto after = host_allocator_stats();
  EXPECT_EQ(after.cache_hits - before.cache_hits, 1);
  EXPECT_EQ(after.allocated_bytes, before.allocated_bytes);
  host_empty_cache();
  EXPECT_EQ(host_allocator_stats().cached_bytes, 0);
}

TEST(Allocator, CacheLimitSendsBlocksBack) {
  host_empty_cache();
  set_host_cache_limit(1 << 20);
  void* a = host_alloc(4 << 20);
  host_free(a, 4 << 20);
  EXPECT_EQ(host_allocator_stats().cached_bytes, 0);
  set_host_cache_limit(int64_t(2) << 30);
}

TEST(DType, HalfAndBFloat16RoundTrip) {
  for (float f : {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.1f}) {
    EXPECT_NEAR(float(Half(f)), f, std::fabs(f) * 1e-3f + 1e-7f) << f;
    EXPECT_NEAR(float(BFloat16(f)), f, std::fabs(f) * 1e-2f) << f;
  }
  EXPECT_TRUE(std::isinf(float(Half(1e6f))));
  EXPECT_TRUE(std::isnan(float(Half(NAN))));
  EXPECT_EQ(promote_types(DType::UInt8, DType::Int8), DType::Int16);
  EXPECT_EQ(promote_types(DType::Float16, DType::BFloat16), DType::Float32);
  EXPECT_EQ(promote_types(DType::Int64, DType::Float16), DType::Float16);
}
