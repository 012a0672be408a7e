#include "daemon/url.h"

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(Url, SplitsDecodedSegmentsAndParameters) {
  auto t = parse_target("/v1/executions/a%2Fb/id%20x?app=shop&meta.k=v+w&q=%C3%A9&empty=&app=x");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->segments, (std::vector<std::string>{"v1", "executions", "a/b", "id x"}));
  ASSERT_EQ(t->params.size(), 5u);
  EXPECT_EQ(t->params[1], (std::pair<std::string, std::string>{"meta.k", "v w"}));
  EXPECT_EQ(t->params[2].second, "é");
  EXPECT_EQ(t->params[3].second, "");
  EXPECT_EQ(t->params[4], (std::pair<std::string, std::string>{"app", "x"}));
}

TEST(Url, RefusesBadEscapesInvalidUtf8AndNul) {
  auto path = parse_target("/v1/%zz");
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().field, "path");
  for (const char* target :
       {"/v1?app=%00", "/v1?app=%ff", "/v1?app=%C3", "/v1?app=%2", "/v1?app=%ED%A0%80"}) {
    auto t = parse_target(target);
    ASSERT_FALSE(t) << target;
    EXPECT_EQ(t.error().field, "app") << target;
  }
  EXPECT_FALSE(parse_target("v1/executions"));
}

TEST(Url, EncodesExecutionUrls) {
  EXPECT_EQ(execution_url("shop", "0192f1c2-7c1e"), "/v1/executions/shop/0192f1c2-7c1e");
  EXPECT_EQ(execution_url("a b/c", "x\"y?é"), "/v1/executions/a%20b%2Fc/x%22y%3F%C3%A9");
  EXPECT_EQ(*percent_decode("a%20b%2Fc", false), "a b/c");
}

TEST(Url, KnowsStorableText) {
  EXPECT_TRUE(is_storable_text("plain, é, 中文, 🚀"));
  EXPECT_FALSE(is_storable_text(std::string("a\0b", 3)));
  EXPECT_FALSE(is_storable_text("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_storable_text("\xf4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace xrayd
