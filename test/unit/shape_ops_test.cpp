// The C++ API of the shape and indexing ops (ember/ShapeOps.h); the Python tests compare every
// op with PyTorch, these check the C++ entry points, gradients through them and error kinds.
#include "ember/Graph.h"
#include "ember/ShapeOps.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

using namespace ember;

namespace {
Tensor longs(const std::vector<float>& v, const Shape& s) { return from_vector(v, s).to(DType::Int64); }

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no ember::Error thrown";
  return ErrorKind::Runtime;
}
} // namespace

TEST(ShapeOps, SplitChunkUnbindAreViews) {
  Tensor a = from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  std::vector<Tensor> parts = split(a, 2, 1);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].shape(), (Shape{2, 1}));
  EXPECT_EQ(parts[1].to_vector(), (std::vector<float>{2, 5}));
  EXPECT_EQ(parts[0].storage(), a.storage());
  EXPECT_EQ(chunk(a, 2, 0)[1].to_vector(), (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(unbind(a, -1)[2].to_vector(), (std::vector<float>{2, 5}));
}

TEST(ShapeOps, GatherAndItsGradient) {
  Tensor a = from_vector({1, 2, 3, 4}, {2, 2});
  a.set_requires_grad(true);
  Tensor g = gather(a, 1, longs({1, 1, 0, 1}, {2, 2}));
  EXPECT_EQ(g.to_vector(), (std::vector<float>{2, 2, 3, 4}));
  sum(g).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{0, 2, 1, 1}));
}

TEST(ShapeOps, SortTopkAndUnique) {
  Tensor a = from_vector({3, 1, 2, 1}, {4});
  auto [values, indices] = sort(a, 0, /*descending=*/true);
  EXPECT_EQ(values.to_vector(), (std::vector<float>{3, 2, 1, 1}));
  EXPECT_EQ(indices.to_vector(), (std::vector<float>{0, 2, 1, 3}));
  EXPECT_EQ(topk(a, 2, 0, /*largest=*/false).second.to_vector(), (std::vector<float>{1, 3}));
  auto [u, inverse, counts] = unique(a);
  EXPECT_EQ(u.to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(inverse.to_vector(), (std::vector<float>{2, 0, 1, 0}));
  EXPECT_EQ(counts.to_vector(), (std::vector<float>{2, 1, 1}));
}

TEST(ShapeOps, AdvancedIndexAndIndexPut) {
  Tensor a = from_vector({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor rows = longs({1, 0}, {2}), cols = longs({2, -3}, {2});
  EXPECT_EQ(index(a, {rows, cols}).to_vector(), (std::vector<float>{5, 0}));
  EXPECT_EQ(index(a, {Tensor(), cols}).shape(), (Shape{2, 2}));
  Tensor put = index_put(a, {rows, cols}, full({}, 9.f), /*accumulate=*/true);
  EXPECT_EQ(put.to_vector(), (std::vector<float>{9, 1, 2, 3, 4, 14}));
  Tensor mask = from_vector({1, 0, 1, 0, 0, 1}, {2, 3}).to(DType::Bool);
  EXPECT_EQ(index(a, {mask}).to_vector(), (std::vector<float>{0, 2, 5}));
  EXPECT_EQ(nonzero(mask).shape(), (Shape{3, 2}));
}

TEST(ShapeOps, UnfoldIsAViewWithAGradient) {
  Tensor a = from_vector({0, 1, 2, 3, 4}, {5});
  a.set_requires_grad(true);
  Tensor u = unfold(a, 0, 2, 1);
  EXPECT_EQ(u.shape(), (Shape{4, 2}));
  EXPECT_EQ(u.storage(), a.storage());
  sum(u).backward();
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{1, 2, 2, 2, 1}));
}

TEST(ShapeOps, ErrorsHavePyTorchsKinds) {
  Tensor a = zeros({2, 3});
  EXPECT_EQ(kind_of([&] { gather(a, 0, longs({5}, {1, 1})); }), ErrorKind::Runtime);
  EXPECT_EQ(kind_of([&] { index(a, {longs({2}, {1})}); }), ErrorKind::Index);
  EXPECT_EQ(kind_of([&] { repeat(a, {2}); }), ErrorKind::Runtime);
  EXPECT_EQ(kind_of([&] { flip(a, {3}); }), ErrorKind::Index);
  Tensor sym = symbolic({3});
  EXPECT_EQ(kind_of([&] { nonzero(sym); }), ErrorKind::NotImplemented);
}
