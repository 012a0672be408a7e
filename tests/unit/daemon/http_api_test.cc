#include "daemon/http_api.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace xrayd {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;
using xray::Errc;

TEST(HttpApi, RoutesByPathAndMethod) {
  EXPECT_EQ(route_for(http::verb::post, "/v1/executions"), Route::kIngest);
  EXPECT_EQ(route_for(http::verb::get, "/v1/executions"), Route::kMethodNotAllowed);
  EXPECT_EQ(route_for(http::verb::get, "/healthz"), Route::kHealth);
  EXPECT_EQ(route_for(http::verb::get, "/readyz?verbose=1"), Route::kReady);
  EXPECT_EQ(route_for(http::verb::post, "/metrics"), Route::kMethodNotAllowed);
  EXPECT_EQ(route_for(http::verb::get, "/v2/executions"), Route::kNotFound);
}

TEST(HttpApi, BodyFormatFromContentType) {
  EXPECT_EQ(body_format("application/json").value(), BodyFormat::kJson);
  EXPECT_EQ(body_format("Application/JSON; charset=utf-8").value(), BodyFormat::kJson);
  EXPECT_EQ(body_format("application/x-ndjson").value(), BodyFormat::kNdjson);
  EXPECT_EQ(body_format("text/plain").error(), Errc::kUnsupportedMediaType);
  EXPECT_EQ(body_format("").error(), Errc::kUnsupportedMediaType);
}

TEST(HttpApi, SplitNdjsonSkipsBlankLinesAndKeepsNumbers) {
  auto lines = split_ndjson("{\"a\":1}\r\n\n  \n{\"b\":2}\n{\"c\":3}");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].number, 1u);
  EXPECT_EQ(lines[0].text, "{\"a\":1}");
  EXPECT_EQ(lines[1].number, 4u);
  EXPECT_EQ(lines[2].number, 5u);
  EXPECT_EQ(lines[2].text, "{\"c\":3}");
}

TEST(HttpApi, BusyErrorCarriesRetryAfter) {
  auto res = error_response(Errc::kBusy, "over memory budget", "memory_limit", 11, true);
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res[http::field::retry_after], "1");
  auto body = json::parse(res.body()).as_object();
  EXPECT_EQ(body["code"], "busy");
  EXPECT_EQ(body["field"], "memory_limit");
}

TEST(HttpApi, ErrorStatusesFollowTheDesign) {
  EXPECT_EQ(error_response(Errc::kInvalidSnapshot, "x", "", 11, true).result_int(), 400);
  EXPECT_EQ(error_response(Errc::kLimitExceeded, "x", "", 11, true).result_int(), 400);
  EXPECT_EQ(error_response(Errc::kBodyTooLarge, "x", "", 11, true).result_int(), 413);
  EXPECT_EQ(error_response(Errc::kUnsupportedMediaType, "x", "", 11, true).result_int(), 415);
  EXPECT_EQ(error_response(Errc::kRejectedByDatabase, "x", "", 11, true).result_int(), 422);
}

TEST(HttpApi, NdjsonResultsNameLinesAndPickStatus) {
  std::vector<NdjsonLine> lines{{1, ""}, {3, ""}};
  std::vector<SnapshotResult> results(2);
  results[0].app = "a";
  results[0].id = "1";
  results[1].error = Errc::kInvalidSnapshot;
  results[1].message = "steps[0].name: required";
  auto mixed = ndjson_results_response(lines, results, 11, true);
  EXPECT_EQ(mixed.result_int(), 207);
  auto body = json::parse(mixed.body()).as_object();
  EXPECT_EQ(body["committed"], 1);
  EXPECT_EQ(body["results"].as_array()[1].as_object()["error"], "line 3: steps[0].name: required");
  EXPECT_EQ(body["results"].as_array()[1].as_object()["line"], 3);

  results[0] = results[1];
  EXPECT_EQ(ndjson_results_response(lines, results, 11, true).result_int(), 400);
  results[0].error = Errc::kBusy;
  results[1].error = Errc::kBusy;
  auto busy = ndjson_results_response(lines, results, 11, true);
  EXPECT_EQ(busy.result_int(), 503);
  EXPECT_EQ(busy[http::field::retry_after], "1");
  results[0] = {};
  results[1] = {};
  EXPECT_EQ(ndjson_results_response(lines, results, 11, true).result_int(), 200);
}

}  // namespace
}  // namespace xrayd
