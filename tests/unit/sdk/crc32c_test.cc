#include "sdk/src/crc32c.h"

#include <gtest/gtest.h>

namespace xray::sdk {
namespace {

TEST(Crc32c, MatchesKnownCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the standard CRC-32C check value
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ContinuesAcrossPieces) {
  EXPECT_EQ(crc32c("56789", crc32c("1234")), crc32c("123456789"));
}

}  // namespace
}  // namespace xray::sdk
