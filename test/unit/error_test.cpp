#include "ember/runtime/Error.h"

#include <gtest/gtest.h>

using namespace ember;

TEST(Error, MessageCarriesContext) {
  Error e(ErrorKind::Type, "ember.add", "dtype mismatch");
  EXPECT_STREQ(e.what(), "ember.add: dtype mismatch");
  EXPECT_EQ(e.kind(), ErrorKind::Type);
}

TEST(Error, CheckFormatsParts) {
  try {
    EMBER_CHECK(1 + 1 == 3, Index, "ember.select", "index ", 7, " out of range for size ", 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "ember.select: index 7 out of range for size 3");
    EXPECT_EQ(e.kind(), ErrorKind::Index);
  }
}
