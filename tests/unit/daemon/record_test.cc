#include "daemon/record.h"

#include <string>

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(Record, HeldBytesCountCapacityNotJustSize) {
  Record r;
  r.app = "shop";
  r.id = "exec-1";
  r.execution_row = std::string(100, 'x') + "\n";
  r.step_rows.reserve(64 * 1024);
  r.step_rows.assign(1000, 's');
  // Invariant 2: the budget sees what the allocator holds, spare capacity included.
  EXPECT_GE(r.held_bytes(), sizeof(Record) + 64 * 1024);
  EXPECT_GT(r.held_bytes(), r.encoded_bytes());
}

TEST(Record, TrimGivesBackLargeSpareCapacity) {
  Record r;
  r.step_rows.reserve(64 * 1024);
  r.step_rows.assign(1000, 's');
  r.evaluation_rows.reserve(1100);
  r.evaluation_rows.assign(1000, 'e');
  const std::size_t before = r.held_bytes();
  r.trim();
  EXPECT_LT(r.step_rows.capacity(), 2000u);
  EXPECT_GE(r.evaluation_rows.capacity(), 1100u);  // under a quarter spare: left alone
  EXPECT_LT(r.held_bytes(), before - 60 * 1024);
  EXPECT_EQ(r.step_rows, std::string(1000, 's'));
}

}  // namespace
}  // namespace xrayd
