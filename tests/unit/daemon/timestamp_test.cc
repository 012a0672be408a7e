#include "daemon/timestamp.h"

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(Timestamp, ParsesRfc3339AndEpochMilliseconds) {
  auto t = parse_time_text("2026-11-22T10:00:00.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(epoch_micros(*t), 1795341600123000);
  auto offset = parse_time_text("2026-11-22T11:00:00.123+01:00");
  ASSERT_TRUE(offset);
  EXPECT_EQ(*offset, *t);
  auto ms = parse_time_text("1795341600123");
  ASSERT_TRUE(ms);
  EXPECT_EQ(*ms, *t);
  EXPECT_TRUE(parse_time_text("-1000"));
  for (const char* bad : {"", "yesterday", "2026-13-01T00:00:00Z", "2026-11-22", "12ab",
                          "99999999999999999", "2026-11-22T10:00:00"}) {
    EXPECT_FALSE(parse_time_text(bad)) << bad;
  }
}

TEST(Timestamp, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(*parse_time_text("2026-11-22T10:00:00.123999Z")),
            "2026-11-22T10:00:00.123Z");
  EXPECT_EQ(format_rfc3339_ms(Timestamp{}), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace xrayd
