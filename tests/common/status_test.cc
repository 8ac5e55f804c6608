#include "lakelog/status.h"

#include <gtest/gtest.h>

namespace lakelog {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Status Quarter(int x, int* out) {
  LAKELOG_ASSIGN_OR_RETURN(int half, Half(x));
  LAKELOG_ASSIGN_OR_RETURN(*out, Half(half));
  return Status::OK();
}

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status st;
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.ToString(), "OK");
  EXPECT_TRUE(st.message().empty());
}

TEST(StatusTest, CopyKeepsCodeAndMessage) {
  Status a = Status::Corruption("bad crc");
  Status b = a;
  EXPECT_EQ(b.code(), StatusCode::kCorruption);
  EXPECT_EQ(b.ToString(), "Corruption: bad crc");
  EXPECT_FALSE(b.retryable());
  EXPECT_TRUE(Status::Conflict("x").retryable());
  EXPECT_EQ(a.WithContext("wal").message(), "wal: bad crc");
}

TEST(StatusTest, AssignOrReturnPropagates) {
  int out = 0;
  EXPECT_TRUE(Quarter(8, &out).ok());
  EXPECT_EQ(out, 2);
  Status st = Quarter(6, &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakelog
