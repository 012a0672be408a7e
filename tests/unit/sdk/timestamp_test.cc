#include "sdk/src/timestamp.h"

#include <gtest/gtest.h>

namespace xray::sdk {
namespace {

std::string rfc3339(std::int64_t ms) {
  std::string out;
  append_rfc3339(out, ms);
  return out;
}

TEST(Timestamp, FormatsRfc3339WithMillisecondsInUtc) {
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(1795860000123), "2026-11-28T10:00:00.123Z");
  EXPECT_EQ(rfc3339(951782400000), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(rfc3339(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Timestamp, NowIsAfter2024) { EXPECT_GT(now_unix_ms(), 1704067200000); }

}  // namespace
}  // namespace xray::sdk
