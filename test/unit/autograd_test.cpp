// Autograd from C++: retain_graph and freed graphs, version counters, in-place ops recorded in
// the graph, hooks, retain_grad, and custom functions (record_custom). The Python tests compare
// the same behaviour with PyTorch.
#include "../../frontend/src/PtrMap.h" // the backward walk's hash map
#include "ember/Graph.h"
#include "ember/ReductionOps.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

using namespace ember;

namespace {
std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    return e.what();
  }
  ADD_FAILURE() << "no ember::Error thrown";
  return "";
}

Tensor leaf(const std::vector<float>& v) {
  Tensor t = from_vector(v, {int64_t(v.size())});
  t.set_requires_grad(true);
  return t;
}
} // namespace

TEST(Autograd, BackwardFreesTheGraphUnlessRetained) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = sum(mul(x, x));
  y.backward(Tensor(), false, /*retain_graph=*/true);
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 8, 12}));
  EXPECT_NE(message_of([&] { y.backward(); }).find("backward through the graph a second time"),
            std::string::npos);
}

TEST(Autograd, VersionCounterCatchesModifiedSavedTensor) {
  Tensor x = leaf({1, 2});
  Tensor h = mul(x, scalar(2));
  Tensor z = sum(mul(h, h));
  const uint64_t v = h.version();
  assign_(h, add(h, scalar(1)), "test.add_");
  EXPECT_EQ(h.version(), v + 1);
  EXPECT_NE(message_of([&] { z.backward(); }).find("modified by an inplace operation"),
            std::string::npos);
}

TEST(Autograd, InPlaceOpIsRecorded) {
  Tensor x = leaf({1, 2});
  Tensor h = mul(x, scalar(2));
  assign_(h, mul(h, x), "test.mul_"); // h = 2x^2
  EXPECT_EQ(node_name(*h.grad_fn()), "MulBackward0");
  sum(h).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{4, 8})); // 4x
  Tensor w = leaf({1});
  EXPECT_NE(message_of([&] { assign_(w, add(w, scalar(1)), "test.add_"); })
                .find("a leaf Variable that requires grad"),
            std::string::npos);
}

TEST(Autograd, HooksAndRetainGrad) {
  Tensor x = leaf({1, 2});
  const int64_t id = autograd::register_hook(x, [](const Tensor& g) { return mul(g, scalar(10)); });
  Tensor h = mul(x, x);
  autograd::retain_grad(h);
  EXPECT_TRUE(autograd::retains_grad(h));
  sum(h).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{20, 40}));
  EXPECT_EQ(h.grad().to_vector(), (std::vector<float>{1, 1}));
  autograd::remove_hook(x, id);
  x.set_grad(Tensor());
  sum(mul(x, x)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 4}));
}

TEST(Autograd, CustomFunctionFromCpp) {
  Tensor x = leaf({1, 2, 3});
  Tensor out;
  {
    GradModeGuard off(false);
    out = mul(x, x);
  }
  auto fn = std::make_shared<CustomBackward>();
  fn->name = "SquareBackward";
  fn->backward = [x](const Tensor& g, const Tensor&) {
    return std::vector<Tensor>{mul(g, mul(x, scalar(2)))};
  };
  Tensor y = autograd::record_custom(out, {x}, fn);
  EXPECT_EQ(node_name(*y.grad_fn()), "SquareBackward");
  std::vector<Tensor> g = autograd::grad({sum(y)}, {x});
  EXPECT_EQ(g[0].to_vector(), (std::vector<float>{2, 4, 6}));
}

TEST(Autograd, GradErrors) {
  Tensor x = leaf({1, 2});
  Tensor u = leaf({3});
  EXPECT_NE(message_of([&] { autograd::grad({sum(mul(x, x))}, {x, u}); })
                .find("appears to not have been used"),
            std::string::npos);
  EXPECT_NE(message_of([&] { mul(x, x).backward(); }).find("only for scalar outputs"),
            std::string::npos);
  EXPECT_NE(message_of([&] { mul(x, x).backward(ones({3})); }).find("Mismatch in shape"),
            std::string::npos);
  EXPECT_NE(message_of([&] { autograd::grad({sum(mul(x, x))}, {ones({2})}); })
                .find("does not require grad"),
            std::string::npos);
}

// backward without retain_graph frees what the graph saved: an intermediate only the graph held
// (its storage goes), and inputs the caller still holds (the graph drops its references to
// them, however many nodes saved them); the freed graph still knows the shapes for its errors.
TEST(Autograd, BackwardReleasesSavedTensors) {
  Tensor x = leaf({1, 2, 3});
  Tensor c = from_vector({2, 3, 4}, {3});
  Tensor h = mul(x, c);
  std::weak_ptr<Storage> h_data = h.storage();
  Tensor y = h;
  for (int i = 0; i < 40; ++i) y = add(mul(y, c), c); // c saved by 40 nodes
  Tensor loss = sum(y);
  h = Tensor();
  y = Tensor();
  EXPECT_FALSE(h_data.expired());
  EXPECT_GT(c.shared_impl().use_count(), 40);
  loss.backward();
  EXPECT_TRUE(h_data.expired());
  EXPECT_EQ(c.shared_impl().use_count(), 1);
  EXPECT_EQ(c.to_vector(), (std::vector<float>{2, 3, 4}));
  // d loss / dx = c^41 elementwise; 2^41 is exact in float32
  const std::vector<float> g = x.grad().to_vector();
  EXPECT_FLOAT_EQ(g[0], std::pow(2.0f, 41));
  EXPECT_NE(message_of([&] { loss.backward(); }).find("backward through the graph a second time"),
            std::string::npos);
}

TEST(PtrMap, InsertFindGrowAndVisit) {
  detail::PtrMap<int, int> map;
  std::vector<int> keys(1000);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(map.insert(&keys[i]));
    EXPECT_FALSE(map.insert(&keys[i]));
    map[&keys[i]] += i;
  }
  EXPECT_EQ(map.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_NE(map.find(&keys[i]), nullptr);
    EXPECT_EQ(*map.find(&keys[i]), i);
  }
  int other = 0;
  EXPECT_EQ(map.find(&other), nullptr);
  long sum = 0, count = 0;
  map.for_each([&](int*, int v) {
    sum += v;
    ++count;
  });
  EXPECT_EQ(count, 1000);
  EXPECT_EQ(sum, 999L * 1000 / 2);
  detail::PtrMap<int, int> empty;
  EXPECT_EQ(empty.find(&other), nullptr);
}
