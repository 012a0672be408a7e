#include "daemon/explorer_api.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "daemon/cursor.h"

namespace xrayd {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

const Timestamp kNow = *parse_time_text("2026-11-22T12:00:00Z");

Plan plan(std::string_view target, http::verb method = http::verb::get, std::string_view body = {},
          std::string_view content_type = "application/json") {
  return plan_request({method, target, content_type, body}, ApiLimits{500}, kNow);
}

// The reply of a request answered at once (a failure when it plans a query).
ApiReply reply(std::string_view target, http::verb method = http::verb::get,
               std::string_view body = {}, std::string_view content_type = "application/json") {
  Plan p = plan(target, method, body, content_type);
  if (auto* r = std::get_if<ApiReply>(&p)) return *r;
  ADD_FAILURE() << target << " was not answered at once";
  return {};
}

const QueryPlan& query(const Plan& p) {
  static const QueryPlan kNone;
  if (auto* q = std::get_if<QueryPlan>(&p)) return *q;
  ADD_FAILURE() << "not a query: " << std::get<ApiReply>(p).body;
  return kNone;
}

// "field" of an error reply.
std::string field(const ApiReply& r) {
  return std::string(json::parse(r.body).as_object().at("field").as_string());
}

TEST(ExplorerApi, RoutesEachEndpoint) {
  EXPECT_EQ(query(plan("/v1/executions")).endpoint, ExplorerEndpoint::kExecutions);
  EXPECT_EQ(query(plan("/v1/executions/shop/e%2F1")).endpoint, ExplorerEndpoint::kExecution);
  EXPECT_EQ(query(plan("/v1/query", http::verb::post, R"({"target": "steps"})")).endpoint,
            ExplorerEndpoint::kQuery);
  EXPECT_EQ(query(plan("/v1/insights/eliminations")).endpoint, ExplorerEndpoint::kEliminations);
  EXPECT_EQ(query(plan("/v1/insights/failed-candidates?reason=rating")).endpoint,
            ExplorerEndpoint::kFailedCandidates);
  EXPECT_EQ(query(plan("/v1/pipelines")).endpoint, ExplorerEndpoint::kPipelines);
  EXPECT_EQ(query(plan("/v1/steps/shape?step=filter")).endpoint, ExplorerEndpoint::kShape);
  EXPECT_EQ(query(plan("/v1/analytics/pipeline?pipeline=p")).endpoint,
            ExplorerEndpoint::kAnalytics);
  Plan stream = plan("/v1/stream?app=shop&pipeline=p");
  ASSERT_TRUE(std::holds_alternative<StreamPlan>(stream));
  EXPECT_EQ(std::get<StreamPlan>(stream).filter.app, "shop");
  EXPECT_EQ(std::get<StreamPlan>(stream).filter.pipeline, "p");
}

TEST(ExplorerApi, AnswersUnknownRoutesAndMethods) {
  EXPECT_EQ(reply("/v1/nope").status, 404u);
  EXPECT_EQ(reply("/v1/executions/a").status, 404u);
  ApiReply post = reply("/v1/executions", http::verb::post);
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.allow, "GET");
  EXPECT_EQ(reply("/v1/query").status, 405u);
  EXPECT_EQ(reply("/index.html", http::verb::delete_).status, 405u);
  EXPECT_EQ(reply("/nope.js").status, 404u);
}

TEST(ExplorerApi, ServesTheDashboard) {
  ApiReply index = reply("/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_TRUE(index.asset);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(reply("/index.html").body, index.body);
}

TEST(ExplorerApi, RefusesBadParametersNamingThem) {
  struct Case {
    std::string target;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"/v1/executions?colour=red", "colour"},
      {"/v1/executions?app=a&app=b", "app"},
      {"/v1/executions?status=done", "status"},
      {"/v1/executions?since=yesterday", "since"},
      {"/v1/executions?until=2026-02-30T00:00:00Z", "until"},
      {"/v1/executions?limit=0", "limit"},
      {"/v1/executions?limit=501", "limit"},
      {"/v1/executions?limit=ten", "limit"},
      {"/v1/executions?cursor=garbage", "cursor"},
      {"/v1/executions?meta.=x", "meta."},
      {"/v1/executions?q=" + std::string(2000, 'x'), "q"},
      {"/v1/executions/a/b?evaluations_limit=100001", "evaluations_limit"},
      {"/v1/insights/eliminations?min_ratio=1.5", "min_ratio"},
      {"/v1/insights/eliminations?min_ratio=nan", "min_ratio"},
      {"/v1/insights/failed-candidates", "reason"},
      {"/v1/steps/shape", "step"},
      {"/v1/steps/shape?step=a&sample=0", "sample"},
      {"/v1/analytics/pipeline", "pipeline"},
      {"/v1/analytics/pipeline?pipeline=p&bucket=week", "bucket"},
      {"/v1/analytics/pipeline?pipeline=p&since=2026-11-23T00:00:00Z", "since"},
      {"/v1/analytics/pipeline?pipeline=p&bucket=minute&since=2020-01-01T00:00:00Z", "bucket"},
      {"/v1/stream?app=a&x=1", "x"},
      {"/v1/pipelines?app=a", "app"},
  };
  for (const auto& c : cases) {
    ApiReply r = reply(c.target);
    EXPECT_EQ(r.status, 400u) << c.target << ": " << r.body;
    EXPECT_EQ(field(r), c.field) << c.target;
    EXPECT_EQ(r.outcome, ExplorerOutcome::kBadRequest);
    EXPECT_TRUE(r.endpoint.has_value()) << c.target;
  }
}

TEST(ExplorerApi, RefusesBadQueryBodiesNamingTheField) {
  const auto post = [](std::string_view body) {
    return reply("/v1/query", http::verb::post, body);
  };
  EXPECT_EQ(field(post("not json")), "body");
  EXPECT_EQ(field(post("[]")), "body");
  EXPECT_EQ(field(post(R"({})")), "target");
  EXPECT_EQ(field(post(R"({"target": "users"})")), "target");
  EXPECT_EQ(field(post(R"({"target": "steps", "limit": 0})")), "limit");
  EXPECT_EQ(field(post(R"({"target": "steps", "limit": 1.5})")), "limit");
  EXPECT_EQ(field(post(R"({"target": "steps", "cursor": 3})")), "cursor");
  EXPECT_EQ(field(post(R"({"target": "steps", "cursor": "xyz"})")), "cursor");
  EXPECT_EQ(field(post(R"({"target": "steps", "order": "asc"})")), "order");
  EXPECT_EQ(field(post(R"({"target": "steps", "where": {"path": "x", "op": "eq", "value": 1}})")),
            "where.path");
  ApiReply media = reply("/v1/query", http::verb::post, R"({"target": "steps"})", "text/plain");
  EXPECT_EQ(media.status, 415u);
  // A cursor of another target does not fit.
  const std::string execution_cursor = encode_cursor({CursorKind::kExecution, 1, "a", "b", 0, 0});
  EXPECT_EQ(field(post(R"({"target": "steps", "cursor": ")" + execution_cursor + R"("})")),
            "cursor");
}

TEST(ExplorerApi, ListStatementsBindEveryValue) {
  const QueryPlan& q =
      query(plan("/v1/executions?app=%27%3B%20DROP%20TABLE%20executions%3B%20--&meta.n=5&"
                 "q=price&since=2026-11-22T00:00:00Z&limit=7"));
  EXPECT_EQ(q.sql.find("DROP"), std::string::npos) << q.sql;
  EXPECT_EQ(q.limit, 7u);
  EXPECT_EQ(q.params.front(), "'; DROP TABLE executions; --");
  // The number is also matched as a string: {"n":"5"} or {"n":5}.
  EXPECT_NE(std::find(q.params.begin(), q.params.end(), R"({"n":"5"})"), q.params.end());
  EXPECT_NE(std::find(q.params.begin(), q.params.end(), R"({"n":5})"), q.params.end());
  EXPECT_EQ(q.params.back(), "8") << "the statement asks for one row more than the page";
}

PgRows list_rows(int n) {
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({R"({"id" : "e)" + std::to_string(i) + R"("})", "shop", "e" + std::to_string(i),
                    std::to_string(1000 - i), std::nullopt, std::nullopt});
  }
  return PgRows::make_for_test(kListColumns, rows);
}

TEST(ExplorerApi, RendersAPageWithItsNextCursor) {
  QueryPlan q = query(plan("/v1/executions?limit=2"));
  ApiReply page = render(q, list_rows(3));
  ASSERT_EQ(page.status, 200u);
  json::object body = json::parse(page.body).as_object();
  ASSERT_EQ(body["executions"].as_array().size(), 2u);
  EXPECT_EQ(body["executions"].as_array()[1].as_object()["execution_url"],
            "/v1/executions/shop/e1");
  auto key =
      decode_cursor(std::string_view(body["next_cursor"].as_string()), CursorKind::kExecution);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, (CursorKey{CursorKind::kExecution, 999, "shop", "e1", 0, 0}));
  // The last page has no cursor.
  ApiReply last = render(q, list_rows(2));
  EXPECT_TRUE(json::parse(last.body).as_object()["next_cursor"].is_null());
  ApiReply empty = render(q, list_rows(0));
  EXPECT_EQ(empty.body, R"({"executions":[],"next_cursor":null})");
}

TEST(ExplorerApi, EndsAPageOfHugeItemsEarlyWithACursor) {
  QueryPlan q = query(plan("/v1/executions?limit=3"));
  const std::string big = R"({"blob" : ")" + std::string(kMaxPageBytes / 2 + 1, 'x') + R"("})";
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int i = 0; i < 3; ++i) {
    rows.push_back({big, "a", "e" + std::to_string(i), "5", std::nullopt, std::nullopt});
  }
  json::object body =
      json::parse(render(q, PgRows::make_for_test(kListColumns, rows)).body).as_object();
  EXPECT_EQ(body["executions"].as_array().size(), 1u);
  auto key =
      decode_cursor(std::string_view(body["next_cursor"].as_string()), CursorKind::kExecution);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->id, "e0");
}

TEST(ExplorerApi, MissingExecutionIsNotFound) {
  QueryPlan q = query(plan("/v1/executions/shop/nope"));
  ApiReply r = render(q, PgRows::make_for_test(1, {}));
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.outcome, ExplorerOutcome::kNotFound);
}

TEST(ExplorerApi, MapsPoolOutcomesToStatuses) {
  EXPECT_EQ(reply_for(QueryPool::JobStatus::kBusy).status, 503u);
  EXPECT_EQ(reply_for(QueryPool::JobStatus::kExpired).status, 503u);
  EXPECT_EQ(reply_for(QueryPool::JobStatus::kUnavailable).status, 503u);
  EXPECT_EQ(reply_for(QueryPool::JobStatus::kShuttingDown).status, 503u);
  EXPECT_EQ(reply_for(QueryPool::JobStatus::kFailed).status, 500u);
  EXPECT_EQ(error_reply(xray::Errc::kQueryTimeout, "slow").status, 504u);
  EXPECT_EQ(json::parse(error_reply(xray::Errc::kQueryTimeout, "slow").body).as_object()["code"],
            "query_timeout");
}

TEST(ExplorerApi, AllowsOnlyHostsThatNameThisMachine) {
  for (const char* host :
       {"127.0.0.1:4001", "localhost:4001", "localhost", "[::1]:4001", "10.1.2.3", ""}) {
    EXPECT_TRUE(host_allowed(host)) << host;
  }
  for (const char* host : {"evil.example:4001", "evil.example", "127.0.0.1.nip.io:4001", "[::1"}) {
    EXPECT_FALSE(host_allowed(host)) << host;
  }
}

}  // namespace
}  // namespace xrayd
