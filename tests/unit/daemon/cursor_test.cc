#include "daemon/cursor.h"

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(Cursor, RoundTripsEveryKind) {
  CursorKey e{CursorKind::kExecution, 1795341600123456, "shop", "id/with \"odd\" chars é", 0, 0};
  auto back = decode_cursor(encode_cursor(e), CursorKind::kExecution);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, e);
  CursorKey v{CursorKind::kEvaluation, -5, "a", "b", 3, 41};
  back = decode_cursor(encode_cursor(v), CursorKind::kEvaluation);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, v);
  CursorKey s{CursorKind::kStep, 0, "a", "b", 7, 0};
  back = decode_cursor(encode_cursor(s), CursorKind::kStep);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
}

TEST(Cursor, IsUrlSafe) {
  const std::string c = encode_cursor({CursorKind::kExecution, 1, "ÿÿÿ? ? >>>", "~~~", 0, 0});
  EXPECT_EQ(c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos)
      << c;
}

TEST(Cursor, RefusesTamperedOrForeignCursorsNamingCursor) {
  const std::string good = encode_cursor({CursorKind::kExecution, 1, "shop", "e1", 0, 0});
  std::vector<std::string> bad = {
      "",
      "!!!",
      good + "A",                       // a leftover character
      good.substr(0, good.size() - 2),  // truncated
      base64url_encode("[\"e\",1,\"shop\"]"),
      base64url_encode("[\"e\",\"1\",\"shop\",\"e1\"]"),
      base64url_encode("[\"e\",1,\"\",\"e1\"]"),
      base64url_encode("[\"e\",1,\"shop\",\"e1\",5]"),
      base64url_encode("{\"e\":1}"),
      base64url_encode("[\"e\",1,\"shop\",\"e\\u0000\"]"),
      base64url_encode("[\"e\",999999999999999999,\"shop\",\"e1\"]"),  // past year 9999
      base64url_encode("not json"),
      std::string(5000, 'A'),
  };
  for (const auto& text : bad) {
    auto key = decode_cursor(text, CursorKind::kExecution);
    ASSERT_FALSE(key) << text;
    EXPECT_EQ(key.error().field, "cursor");
    EXPECT_EQ(key.error().code, xray::Errc::kBadQuery);
  }
  // A step cursor is not an execution cursor, and the other way round.
  EXPECT_FALSE(decode_cursor(good, CursorKind::kStep));
  EXPECT_FALSE(
      decode_cursor(encode_cursor({CursorKind::kStep, 1, "a", "b", -1, 0}), CursorKind::kStep));
}

TEST(Cursor, Base64urlMatchesRfc4648) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("Zm9vYg"), "foob");
  EXPECT_FALSE(base64url_decode("Zm9vYh"));  // non-zero bits past the last byte
  EXPECT_FALSE(base64url_decode("Zm9v="));
}

}  // namespace
}  // namespace xrayd
