// Autocast from C++: AutocastGuard's state and nesting, per-thread state, the op policy at the
// ops' entry (lower precision, float32, untouched), gradients back to float32 leaves, errors.
// test/python/test_autocast.py compares the same behaviour with torch.autocast.
#include "ember/Autocast.h"
#include "ember/Functional.h"
#include "ember/Graph.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <thread>

using namespace ember;
namespace F = ember::nn::functional;

namespace {
Tensor matrix(int64_t r, int64_t c, float scale = 0.1f) {
  std::vector<float> v(size_t(r * c));
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * float(int64_t(i % 7) - 3);
  return from_vector(v, {r, c});
}
} // namespace

TEST(Autocast, GuardSetsAndRestoresState) {
  EXPECT_FALSE(is_autocast_enabled(DeviceType::CPU));
  EXPECT_EQ(get_autocast_dtype(DeviceType::CPU), DType::BFloat16);
  EXPECT_EQ(get_autocast_dtype(DeviceType::CUDA), DType::Float16);
  {
    AutocastGuard on("cpu", DType::Float16);
    EXPECT_TRUE(is_autocast_enabled(DeviceType::CPU));
    EXPECT_FALSE(is_autocast_enabled(DeviceType::CUDA));
    EXPECT_EQ(get_autocast_dtype(DeviceType::CPU), DType::Float16);
    {
      AutocastGuard off("cpu", std::nullopt, /*enabled=*/false);
      EXPECT_FALSE(is_autocast_enabled(DeviceType::CPU));
      EXPECT_EQ(get_autocast_dtype(DeviceType::CPU), DType::Float16); // inherited
    }
    EXPECT_TRUE(is_autocast_enabled(DeviceType::CPU));
  }
  EXPECT_FALSE(is_autocast_enabled(DeviceType::CPU));
  EXPECT_EQ(get_autocast_dtype(DeviceType::CPU), DType::BFloat16);
}

TEST(Autocast, StateIsPerThread) {
  AutocastGuard on("cpu");
  bool other = true;
  std::thread([&] { other = is_autocast_enabled(DeviceType::CPU); }).join();
  EXPECT_FALSE(other);
  EXPECT_TRUE(is_autocast_enabled(DeviceType::CPU));
}

TEST(Autocast, OpPolicy) {
  Tensor a = matrix(3, 4), b = matrix(4, 5);
  EXPECT_EQ(mm(a, b).dtype(), DType::Float32);
  AutocastGuard on("cpu");
  EXPECT_EQ(mm(a, b).dtype(), DType::BFloat16);
  EXPECT_EQ(matmul(a, b).dtype(), DType::BFloat16);
  EXPECT_EQ(F::linear(a, transpose(b, 0, 1)).dtype(), DType::BFloat16);
  // float32 list: the lower-precision input is computed in float32.
  Tensor lo = cast(a, DType::BFloat16);
  EXPECT_EQ(F::mse_loss(lo, lo).dtype(), DType::Float32);
  EXPECT_EQ(prod(lo).dtype(), DType::Float32);
  // On neither CPU list: softmax keeps its input's dtype; float64 is never cast.
  EXPECT_EQ(softmax(lo, 1).dtype(), DType::BFloat16);
  EXPECT_EQ(mm(cast(a, DType::Float64), cast(b, DType::Float64)).dtype(), DType::Float64);
}

TEST(Autocast, GradientsReachFloat32Leaves) {
  Tensor w = matrix(5, 4);
  w.set_requires_grad(true);
  Tensor x = matrix(3, 4, 0.2f);
  Tensor loss;
  {
    AutocastGuard on("cpu");
    Tensor y = F::linear(x, w);
    EXPECT_EQ(y.dtype(), DType::BFloat16);
    loss = F::mse_loss(y, zeros({3, 5}));
    EXPECT_EQ(loss.dtype(), DType::Float32);
  }
  loss.backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_EQ(w.grad().dtype(), DType::Float32);
  EXPECT_EQ(w.grad().shape(), (Shape{5, 4}));
}

TEST(Autocast, BadDeviceTypeAndDtype) {
  try {
    AutocastGuard g("tpu");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    EXPECT_NE(std::string(e.what()).find("device_type must be 'cpu' or 'cuda'"), std::string::npos);
  }
  try {
    AutocastGuard g("cpu", DType::Int32);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Type);
    EXPECT_NE(std::string(e.what()).find("int32"), std::string::npos);
  }
  EXPECT_FALSE(is_autocast_enabled(DeviceType::CPU)); // a failed guard changed nothing
}
