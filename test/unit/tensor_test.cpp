#include "ember/Ops.h"
#include "ember/Tensor.h"
#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

using namespace ember;

TEST(Tensor, AddSameShape) {
  Tensor a = from_vector({1, 2, 3, 4}, {2, 2});
  Tensor b = from_vector({10, 20, 30, 40}, {2, 2});
  Tensor c = a + b;
  EXPECT_EQ(c.shape(), (Shape{2, 2}));
  EXPECT_EQ(c.to_vector(), (std::vector<float>{11, 22, 33, 44}));
}

TEST(Tensor, AddBroadcastsLikePyTorch) {
  Tensor a = from_vector({1, 2, 3}, {3, 1});     // column
  Tensor b = from_vector({10, 20, 30, 40}, {4}); // row
  Tensor c = add(a, b);
  EXPECT_EQ(c.shape(), (Shape{3, 4}));
  EXPECT_EQ(c.to_vector(),
            (std::vector<float>{11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43}));
}

TEST(Tensor, AddScalarTensorAndEmpty) {
  Tensor s = full({}, 5.f);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_FLOAT_EQ((s + ones({2})).to_vector()[1], 6.f);
  EXPECT_EQ((zeros({0, 3}) + ones({3})).numel(), 0);
}

TEST(Tensor, StridedCopyReadsAnyLayout) {
  std::vector<float> data = {1, 2, 3, 4, 5, 6}; // 2x3 row-major, read transposed as 3x2
  Tensor t = copy_from(data.data(), {3, 2}, {1, 3});
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_TRUE(t.is_contiguous());
}

TEST(Tensor, StorageIsAligned) {
  Tensor t = empty({17});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % kHostAlignment, 0u);
}

TEST(Tensor, BadBroadcastNamesOpAndShapes) {
  try {
    add(ones({2, 3}), ones({4}));
    FAIL() << "expected ember::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Value);
    EXPECT_EQ(e.context(), "ember.add");
    std::string msg = e.what();
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not broadcastable"), std::string::npos) << msg;
  }
}

TEST(Tensor, BadShapeAndItemAreErrors) {
  EXPECT_THROW(from_vector({1, 2, 3}, {2, 2}), Error);
  EXPECT_THROW(empty({-1}), Error);
  EXPECT_THROW(ones({2}).item(), Error);
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_FLOAT_EQ(full({1, 1}, 3.f).item(), 3.f);
}
