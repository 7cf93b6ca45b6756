#include "ember/Ops.h"
#include "ember/runtime/Cuda.h"

#include <gtest/gtest.h>

#include <csignal>
#include <execinfo.h>
#include <unistd.h>
#include <vector>

namespace {
// A crash in a GPU test prints where it happened (GPU machines have no debugger).
[[maybe_unused]] const bool kBacktraceOnCrash = [] {
  std::signal(SIGSEGV, [](int) {
    void* frames[64];
    int n = backtrace(frames, 64);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    _exit(139);
  });
  return true;
}();
} // namespace

using namespace ember;

// Runs everywhere: without a GPU, CUDA is reported unavailable with a reason.
TEST(Cuda, AvailabilityIsConsistent) {
  if (cuda::is_available()) {
    EXPECT_GT(cuda::device_count(), 0);
    EXPECT_EQ(cuda::unavailable_reason(), "");
  } else {
    EXPECT_EQ(cuda::device_count(), 0);
    EXPECT_NE(cuda::unavailable_reason(), "");
  }
}

// GPU tests skip cleanly where there is no GPU.
TEST(CudaGPU, DriverSeesDevice) {
  if (!cuda::is_available()) GTEST_SKIP() << "no GPU: " << cuda::unavailable_reason();
  EXPECT_TRUE(cuda::built_with_cuda());
  EXPECT_GE(cuda::device_count(), 1);
}

// Host -> device -> host, in steps, so a failure says which step broke.
TEST(CudaGPU, RawCopiesRoundTrip) {
  if (!cuda::is_available()) GTEST_SKIP() << "no GPU: " << cuda::unavailable_reason();
  cuda::set_device(0);
  std::vector<float> in(1000), out(1000, -1.f);
  for (size_t i = 0; i < in.size(); ++i) in[i] = float(i) * 0.5f;
  void* d = cuda::device_alloc(in.size() * sizeof(float), 0);
  ASSERT_NE(d, nullptr);
  cuda::copy_host_to_device(d, in.data(), in.size() * sizeof(float));
  cuda::synchronize();
  cuda::copy_device_to_host(out.data(), d, out.size() * sizeof(float));
  EXPECT_EQ(in, out);
  cuda::device_free(d, in.size() * sizeof(float), 0);
}

TEST(CudaGPU, TensorsAndAKernel) {
  if (!cuda::is_available()) GTEST_SKIP() << "no GPU: " << cuda::unavailable_reason();
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor g = a.to(cuda_device(0));
  EXPECT_TRUE(g.is_cuda());
  EXPECT_EQ(g.to(Device()).to_vector(), a.to_vector());
  EXPECT_EQ(add(g, g).to_vector(), (std::vector<float>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(sum(g).item(), 21.0);
  EXPECT_EQ(mm(g, transpose(g, 0, 1)).to_vector(), (std::vector<float>{14, 32, 32, 77}));
}
