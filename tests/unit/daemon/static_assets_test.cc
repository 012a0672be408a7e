#include "daemon/static_assets.h"

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(StaticAssets, ContentTypeFollowsTheExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("js/app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("app.MJS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
  EXPECT_EQ(content_type_for("dir.v2/README"), "application/octet-stream");
  EXPECT_EQ(content_type_for("data.bin"), "application/octet-stream");
}

TEST(StaticAssets, EmbedsTheDashboardIndex) {
  // dashboard/index.html exists in the source tree, so it is built in.
  const EmbeddedAsset* index = find_asset("");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->path, "index.html");
  EXPECT_NE(index->bytes.find("<html"), std::string_view::npos);
  EXPECT_EQ(find_asset("../CMakeLists.txt"), nullptr);
  EXPECT_EQ(find_asset("nope.js"), nullptr);
}

}  // namespace
}  // namespace xrayd
