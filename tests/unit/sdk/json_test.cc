#include "xray/json.h"

#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace xray {
namespace {

TEST(Json, BuildsObjectFromInitializerListOfPairs) {
  Json j = {{"price", 19.99}, {"tags", {"a", "b"}}, {"inStock", true}, {"count", 3}};
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.dump(), R"({"price":19.99,"tags":["a","b"],"inStock":true,"count":3})");
}

TEST(Json, BuildsArrayWhenElementsAreNotPairs) {
  EXPECT_EQ(Json({"a", "b"}).dump(), R"(["a","b"])");
  EXPECT_EQ(Json({1, 2.5, nullptr, false}).dump(), "[1,2.5,null,false]");
  EXPECT_EQ(Json::array({{"a", 1}, {"b", 2}}).dump(), R"([["a",1],["b",2]])");
}

TEST(Json, BuildsNestedObjects) {
  Json j = {{"price", {{"min", 10}, {"max", 40}}}, {"minRating", 4.0}};
  EXPECT_EQ(j.dump(), R"({"price":{"min":10,"max":40},"minRating":4})");
  ASSERT_NE(j.find("price"), nullptr);
  EXPECT_EQ(j.find("price")->find("max")->as_int(), 40);
}

TEST(Json, DefaultAndEmptyBracesAreNull) {
  Json a;
  Json b = {};
  EXPECT_TRUE(a.is_null());
  EXPECT_TRUE(b.is_null());
  EXPECT_EQ(a.dump(), "null");
  EXPECT_EQ(Json::object().dump(), "{}");
  EXPECT_EQ(Json::array().dump(), "[]");
}

TEST(Json, SetReplacesExistingKeyAndKeepsOrder) {
  Json j;
  j.set("b", 1).set("a", 2).set("b", 3);
  EXPECT_EQ(j.dump(), R"({"b":3,"a":2})");
}

TEST(Json, RepeatedKeyInInitializerListKeepsLastValue) {
  Json j = {{"a", 1}, {"a", 2}};
  EXPECT_EQ(j.dump(), R"({"a":2})");
}

TEST(Json, PushBackMakesArray) {
  Json j;
  j.push_back(1).push_back("x");
  EXPECT_EQ(j.dump(), R"([1,"x"])");
}

TEST(Json, ConvertsVectorsAndMaps) {
  std::vector<std::string> tags = {"x", "y"};
  std::map<std::string, double> scores = {{"a", 0.5}, {"b", 1}};
  EXPECT_EQ(Json(tags).dump(), R"(["x","y"])");
  EXPECT_EQ(Json(scores).dump(), R"({"a":0.5,"b":1})");
}

TEST(Json, EscapesQuotesBackslashesAndControlCharacters) {
  Json j = std::string("q\"b\\n\nr\rt\tb\bf\f\x01\x1f");
  EXPECT_EQ(j.dump(), R"("q\"b\\n\nr\rt\tb\bf\f\u0001\u001f")");
}

TEST(Json, KeepsValidUtf8Unescaped) {
  Json j = {{"name", "Café ☕ 𝄞"}};
  EXPECT_EQ(j.dump(), "{\"name\":\"Café ☕ 𝄞\"}");
}

TEST(Json, ReplacesInvalidUtf8WithReplacementCharacter) {
  // Lone continuation byte, overlong '/', a surrogate, truncated 3-byte sequence.
  Json j = std::string(
      "a\x80"
      "b\xC0\xAF"
      "c\xED\xA0\x80"
      "d\xE2\x82");
  std::string out = j.dump();
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD"
            "c\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "d\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_NO_THROW(boost::json::parse(out));
}

TEST(Json, ReplacesNulBecauseJsonbCannotStoreIt) {
  Json j = std::string("a\0b", 3);
  EXPECT_EQ(j.dump(),
            "\"a\xEF\xBF\xBD"
            "b\"");
}

TEST(Json, EscapesKeysToo) {
  Json j = {{"a\"b", 1}};
  EXPECT_EQ(j.dump(), R"({"a\"b":1})");
}

TEST(Json, WritesNumbersExactly) {
  EXPECT_EQ(Json(0).dump(), "0");
  EXPECT_EQ(Json(-42).dump(), "-42");
  EXPECT_EQ(Json(std::numeric_limits<std::int64_t>::min()).dump(), "-9223372036854775808");
  EXPECT_EQ(Json(std::numeric_limits<std::uint64_t>::max()).dump(), "18446744073709551615");
  EXPECT_EQ(Json(49.99).dump(), "49.99");
  EXPECT_EQ(Json(0.1).dump(), "0.1");
  EXPECT_EQ(Json(1e300).dump(), "1e+300");
  EXPECT_EQ(Json(2.5f).dump(), "2.5");
  // Shortest text that round-trips.
  double d = 1.0 / 3.0;
  EXPECT_EQ(boost::json::parse(Json(d).dump()).as_double(), d);
}

TEST(Json, WritesNonFiniteNumbersAsNull) {
  EXPECT_EQ(Json(std::nan("")).dump(), "null");
  EXPECT_EQ(Json(std::numeric_limits<double>::infinity()).dump(), "null");
}

TEST(Json, OutputParsesAsTheSameValue) {
  Json j = {{"s", "x\u00e9\n"}, {"n", -1.5}, {"a", {1, 2, {{"k", nullptr}}}}, {"t", true}};
  auto parsed = boost::json::parse(j.dump());
  EXPECT_EQ(parsed.at("s").as_string(), "x\u00e9\n");
  EXPECT_EQ(parsed.at("n").as_double(), -1.5);
  EXPECT_TRUE(parsed.at("a").as_array()[2].at("k").is_null());
}

TEST(Json, TypedAccessReturnsFallbackForOtherTypes) {
  Json s = "x";
  EXPECT_EQ(s.as_int(7), 7);
  EXPECT_EQ(Json(3).as_double(), 3.0);
  EXPECT_EQ(Json(5u).as_int(), 5);
  EXPECT_TRUE(Json(1).as_string().empty());
  EXPECT_EQ(Json({1, 2}).size(), 2u);
}

TEST(Json, ComparesByValue) {
  EXPECT_EQ(Json({{"a", 1}}), Json({{"a", 1}}));
  EXPECT_NE(Json({{"a", 1}}), Json({{"a", 2}}));
}

}  // namespace
}  // namespace xray
