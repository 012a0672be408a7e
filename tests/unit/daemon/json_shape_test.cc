#include "daemon/json_shape.h"

#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(JsonShape, ListsPathsTypesCountsAndLastSeen) {
  JsonShape shape;
  const Timestamp newer{std::chrono::seconds(2000)};
  const Timestamp older{std::chrono::seconds(1000)};
  shape.add(0, R"({"n": 1, "c": [{"id": "a"}, {"id": 7}], "o": {"x": null}})", 0, newer);
  shape.add(0, R"({"n": "one"})", 1, older);
  shape.add(1, R"([true])", 1, older);
  shape.add(1, "not json", 2, older);
  const std::string_view names[] = {"input", "output"};
  EXPECT_EQ(
      boost::json::serialize(shape.fields(names)),
      R"([{"section":"input","path":"c","types":["array"],"last_seen":"1970-01-01T00:33:20.000Z","count":1},)"
      R"({"section":"input","path":"c[]","types":["object"],"last_seen":"1970-01-01T00:33:20.000Z","count":1},)"
      R"({"section":"input","path":"c[].id","types":["string","number"],"last_seen":"1970-01-01T00:33:20.000Z","count":1},)"
      R"({"section":"input","path":"n","types":["string","number"],"last_seen":"1970-01-01T00:33:20.000Z","count":2},)"
      R"({"section":"input","path":"o","types":["object"],"last_seen":"1970-01-01T00:33:20.000Z","count":1},)"
      R"({"section":"input","path":"o.x","types":["null"],"last_seen":"1970-01-01T00:33:20.000Z","count":1},)"
      R"({"section":"output","path":"[]","types":["boolean"],"last_seen":"1970-01-01T00:16:40.000Z","count":1}])");
  EXPECT_FALSE(shape.truncated());
}

TEST(JsonShape, StopsAtItsBounds) {
  JsonShape shape;
  std::string wide = "{";
  for (std::size_t i = 0; i <= JsonShape::kMaxFields; ++i) {
    wide += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  }
  shape.add(0, wide + "}", 0, Timestamp{});
  EXPECT_TRUE(shape.truncated());
  const std::string_view names[] = {"input"};
  EXPECT_EQ(shape.fields(names).size(), JsonShape::kMaxFields);
  JsonShape deep;
  std::string nested = "1";
  for (int i = 0; i < 40; ++i) nested = "{\"a\":" + nested + "}";
  deep.add(0, nested, 0, Timestamp{});
  EXPECT_EQ(deep.fields(names).size(), JsonShape::kMaxDepth);
}

}  // namespace
}  // namespace xrayd
