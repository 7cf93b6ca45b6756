#include "ember/runtime/Cuda.h"

#include <gtest/gtest.h>

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
