// The decision explorer end to end: a real xrayd, a real PostgreSQL, data
// ingested through the daemon itself (POST /v1/executions), and the query API
// on the explorer listener (docs/api.md).
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/types.h>

#include "daemon/explorer_api.h"
#include "daemon/pg_connection.h"
#include "tests/support/clients.h"
#include "tests/support/daemon_process.h"
#include "tests/support/pg_server.h"

namespace xray::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The seeded executions start at kBase + 1..4 s (a minute boundary).
constexpr const char* kBase = "2026-11-22T10:00:00Z";
std::string at(double seconds_after) {
  char text[64];
  std::snprintf(text, sizeof text, "2026-11-22T10:00:%06.3fZ", seconds_after);
  return text;
}

json::object evaluation(const std::string& id, json::value passed, json::array reasons,
                        json::value scores, json::value metadata = nullptr) {
  json::object e{{"id", id}, {"passed", passed}};
  if (!reasons.empty()) e["reasons"] = std::move(reasons);
  if (!scores.is_null()) e["scores"] = std::move(scores);
  if (!metadata.is_null()) e["metadata"] = std::move(metadata);
  return e;
}

// Four executions whose every field the tests below know:
//   d4  shop/competitor-selection  prod     completed  +4 s  1 step  filter 1 of 2 passed (1
//   undecided) c3  bank/loan-approval         (none)   running    +3 s  1 step  score 4 of 5 passed
//   b2  shop/competitor-selection  staging  failed     +2 s  2 steps filter 0 of 4, select failed
//   a1  shop/competitor-selection  prod     completed  +1 s  3 steps keywords, filter 1 of 10,
//   select
std::vector<std::string> seed_snapshots() {
  json::array a1_evals;
  a1_evals.push_back(evaluation("A0", true, {}, json::object{{"rating", 4.6}}));
  for (int i = 1; i <= 5; ++i) {
    a1_evals.push_back(evaluation("A" + std::to_string(i), false, {"rating 3.1 < 4.0"},
                                  json::object{{"rating", 3.1}}));
  }
  for (int i = 6; i <= 9; ++i) {
    a1_evals.push_back(evaluation("A" + std::to_string(i), false, {"price 49.99 > 40"},
                                  json::object{{"rating", 4.2}}));
  }
  json::object a1{
      {"id", "a1"},
      {"app", "shop"},
      {"pipeline", "competitor-selection"},
      {"environment", "prod"},
      {"status", "completed"},
      {"started_at", at(1)},
      {"ended_at", at(3)},
      {"metadata", json::object{{"useCase", "search"},
                                {"productId", "B01"},
                                {"rank", 3},
                                {"flags", json::array{"x", "y"}},
                                {"nested", json::object{{"k", "v"}}}}},
      {"result", json::object{{"selected", "A0"}}},
      {"steps",
       json::array{
           json::object{{"name", "keywords"},
                        {"input", json::object{{"title", "Laptop stand"}}},
                        {"output", json::object{{"keywords", json::array{"stand"}}}},
                        {"reasoning", "extracted keywords"}},
           json::object{
               {"name", "filter"},
               {"started_at", at(1.5)},
               {"ended_at", at(1.75)},
               {"input", json::object{{"candidates", 10}, {"query", json::object{{"q", "stand"}}}}},
               {"output", json::object{{"kept", json::array{"A0"}}}},
               {"filters", json::object{{"minRating", 4}, {"price", json::object{{"max", 40}}}}},
               {"metadata", json::object{{"filteredCount", 9}}},
               {"evaluations", std::move(a1_evals)},
               {"reasoning", "Dropped candidates below the RATING threshold"}},
           json::object{{"name", "select"},
                        {"selection", json::object{{"id", "B07"}}},
                        {"reasoning", "best score"}},
       }},
  };
  json::array b2_evals;
  for (int i = 0; i < 4; ++i) {
    b2_evals.push_back(evaluation("B" + std::to_string(i), false, {"price 99 > 40"},
                                  json::object{{"rating", 4.8}}));
  }
  json::object b2{
      {"id", "b2"},
      {"app", "shop"},
      {"pipeline", "competitor-selection"},
      {"environment", "staging"},
      {"status", "failed"},
      {"started_at", at(2)},
      {"ended_at", at(2.5)},
      {"metadata", json::object{{"useCase", "search"}, {"productId", "B02"}, {"rank", "3"}}},
      {"error", json::object{{"message", "no candidate left"}}},
      {"steps", json::array{json::object{{"name", "filter"},
                                         {"input", json::object{{"candidates", 4}}},
                                         {"evaluations", std::move(b2_evals)},
                                         {"reasoning", "all too expensive"}},
                            json::object{{"name", "select"}, {"status", "failed"}}}},
  };
  json::array c3_evals;
  for (int i = 0; i < 4; ++i) {
    c3_evals.push_back(
        evaluation("C" + std::to_string(i), true, {}, json::object{{"rating", 4.0}}));
  }
  c3_evals.push_back(evaluation("C4", false, {"income below minimum"}, nullptr,
                                json::object{{"note", "Manual review"}}));
  json::object c3{
      {"id", "c3"},
      {"app", "bank"},
      {"pipeline", "loan-approval"},
      {"status", "running"},
      {"started_at", at(3)},
      {"metadata", json::object{{"useCase", "loan"}}},
      {"steps", json::array{json::object{{"name", "score"},
                                         {"evaluations", std::move(c3_evals)},
                                         {"reasoning", "scored applicants"}}}},
  };
  json::array d4_evals;
  d4_evals.push_back(evaluation("D0", true, {}, json::object{{"rating", 4.9}}));
  d4_evals.push_back(evaluation("D1", nullptr, {"rating unknown"}, nullptr));
  json::object d4{
      {"id", "d4"},
      {"app", "shop"},
      {"pipeline", "competitor-selection"},
      {"environment", "prod"},
      {"status", "completed"},
      {"started_at", at(4)},
      {"ended_at", at(4.5)},
      {"steps", json::array{json::object{{"name", "filter"},
                                         {"input", json::object{{"candidates", "2"}}},
                                         {"evaluations", std::move(d4_evals)}}}},
  };
  return {json::serialize(a1), json::serialize(b2), json::serialize(c3), json::serialize(d4)};
}

// A second session holding an ACCESS EXCLUSIVE lock on a table until destroyed.
class PgLock {
 public:
  static std::unique_ptr<xrayd::PgConnection> take(PgServer& pg, const std::string& table) {
    auto conn = xrayd::PgConnection::connect(pg.conninfo(), "test-locker");
    EXPECT_TRUE(conn.has_value());
    if (!conn) return nullptr;
    auto locked = (*conn)->exec("BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
    EXPECT_TRUE(locked.has_value()) << locked.error().message;
    return std::move(*conn);
  }
};

class Explorer : public ::testing::Test {
 protected:
  void SetUp() override { pg().reset_database(); }

  static PgServer& pg() { return PgServer::shared(); }

  void start(std::vector<std::string> extra = {}) {
    extra.push_back("--batch-max-delay=5ms");
    ASSERT_TRUE(daemon_.start(pg().conninfo(), extra)) << daemon_.log();
    ASSERT_NE(daemon_.explorer_port(), 0) << daemon_.log();
    api_ = std::make_unique<HttpClient>(daemon_.explorer_port());
    ingest_ = std::make_unique<HttpClient>(daemon_.http_port());
  }

  // Ingests through the daemon, as an application would.
  void ingest(const std::vector<std::string>& snapshots) {
    std::string body;
    for (const auto& s : snapshots) body += s + "\n";
    HttpReply reply = ingest_->post("/v1/executions", "application/x-ndjson", body);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  void start_seeded(std::vector<std::string> extra = {}) {
    start(std::move(extra));
    ingest(seed_snapshots());
  }

  json::object get(const std::string& target, int status = 200) {
    HttpReply reply = api_->get(target);
    EXPECT_EQ(reply.status, status) << target << ": " << reply.body;
    if (reply.body.empty()) return {};
    return json::parse(reply.body).as_object();
  }

  json::object query(const std::string& body, int status = 200) {
    HttpReply reply = api_->post("/v1/query", "application/json", body);
    EXPECT_EQ(reply.status, status) << body << ": " << reply.body;
    return json::parse(reply.body).as_object();
  }

  // The keys of the rows of a list: "id", "id/index" or "id/step_index/position".
  static std::vector<std::string> keys(const json::array& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) {
      const json::object& o = r.as_object();
      if (const auto* position = o.if_contains("position")) {
        out.push_back(std::string(o.at("execution_id").as_string()) + "/" +
                      std::to_string(o.at("step_index").as_int64()) + "/" +
                      std::to_string(position->as_int64()));
      } else if (const auto* index = o.if_contains("index")) {
        out.push_back(std::string(o.at("execution_id").as_string()) + "/" +
                      std::to_string(index->as_int64()));
      } else {
        out.push_back(std::string(o.at("id").as_string()));
      }
    }
    return out;
  }

  std::vector<std::string> where(const std::string& target, const std::string& filter) {
    json::object body =
        query(R"({"target": ")" + target + R"(", "where": )" + filter + R"(, "limit": 500})");
    if (!body.contains("rows")) return {"<error>"};
    EXPECT_TRUE(body["next_cursor"].is_null());
    return keys(body["rows"].as_array());
  }

  // Every (app, id) in a list page carries its link.
  static void expect_links(const json::array& rows) {
    for (const auto& r : rows) {
      const json::object& o = r.as_object();
      const auto* id = o.if_contains("execution_id");
      if (id == nullptr) id = o.if_contains("id");
      EXPECT_EQ(std::string(o.at("execution_url").as_string()),
                "/v1/executions/" + std::string(o.at("app").as_string()) + "/" +
                    std::string(id->as_string()));
    }
  }

  DaemonProcess daemon_;
  std::unique_ptr<HttpClient> api_;
  std::unique_ptr<HttpClient> ingest_;
};

using Keys = std::vector<std::string>;

std::string range(const std::string& prefix, int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += (out.empty() ? "" : ",") + prefix + std::to_string(i);
  return out;
}
Keys split(const std::string& csv) {
  Keys out;
  std::size_t start = 0;
  while (start <= csv.size() && !csv.empty()) {
    auto comma = csv.find(',', start);
    out.push_back(csv.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

TEST_F(Explorer, ListsExecutionsNewestFirstWithEveryFilter) {
  start_seeded();
  json::object all = get("/v1/executions");
  EXPECT_EQ(keys(all["executions"].as_array()), (Keys{"d4", "c3", "b2", "a1"}));
  EXPECT_TRUE(all["next_cursor"].is_null());
  expect_links(all["executions"].as_array());
  const json::object& a1 = all["executions"].as_array()[3].as_object();
  EXPECT_EQ(a1.at("pipeline"), "competitor-selection");
  EXPECT_EQ(a1.at("environment"), "prod");
  EXPECT_EQ(a1.at("status"), "completed");
  EXPECT_EQ(a1.at("started_at"), "2026-11-22T10:00:01.000Z");
  EXPECT_EQ(a1.at("ended_at"), "2026-11-22T10:00:03.000Z");
  EXPECT_EQ(a1.at("duration_ms").to_number<double>(), 2000.0);
  EXPECT_EQ(a1.at("step_count"), 3);
  EXPECT_EQ(a1.at("metadata").as_object().at("productId"), "B01");
  EXPECT_TRUE(a1.at("ingested_at").is_string());

  const auto list = [&](const std::string& params) {
    return keys(get("/v1/executions?" + params)["executions"].as_array());
  };
  EXPECT_EQ(list("app=shop"), (Keys{"d4", "b2", "a1"}));
  EXPECT_EQ(list("pipeline=loan-approval"), (Keys{"c3"}));
  EXPECT_EQ(list("environment=prod"), (Keys{"d4", "a1"}));
  EXPECT_EQ(list("status=failed"), (Keys{"b2"}));
  EXPECT_EQ(list("since=2026-11-22T10:00:02Z"), (Keys{"d4", "c3", "b2"}));
  EXPECT_EQ(list("until=2026-11-22T10:00:02Z"), (Keys{"a1"}));
  EXPECT_EQ(list("since=1795341602000&until=1795341604000"), (Keys{"c3", "b2"}));
  EXPECT_EQ(list("meta.useCase=search"), (Keys{"b2", "a1"}));
  // A number in a parameter matches the number and the string.
  EXPECT_EQ(list("meta.rank=3"), (Keys{"b2", "a1"}));
  EXPECT_EQ(list("meta.rank=3&meta.productId=B02"), (Keys{"b2"}));
  EXPECT_EQ(list("q=rating"), (Keys{"a1"}));
  EXPECT_EQ(list("q=SCORED"), (Keys{"c3"}));
  EXPECT_EQ(list("app=shop&status=completed&q=keywords"), (Keys{"a1"}));
  EXPECT_EQ(list("app=nobody"), (Keys{}));
  // An empty value means any.
  EXPECT_EQ(list("app=&pipeline="), (Keys{"d4", "c3", "b2", "a1"}));
}

TEST_F(Explorer, FiltersExecutionsWithEachOperator) {
  start_seeded();
  const auto w = [&](const std::string& filter) { return where("executions", filter); };
  EXPECT_EQ(w(R"({"path": "app", "op": "eq", "value": "shop"})"), (Keys{"d4", "b2", "a1"}));
  EXPECT_EQ(w(R"({"path": "app", "op": "ne", "value": "shop"})"), (Keys{"c3"}));
  EXPECT_EQ(w(R"({"path": "id", "op": "in", "value": ["a1", "c3", "zz"]})"), (Keys{"c3", "a1"}));
  EXPECT_EQ(w(R"({"path": "pipeline", "op": "contains", "value": "LOAN"})"), (Keys{"c3"}));
  EXPECT_EQ(w(R"({"path": "environment", "op": "eq", "value": "prod"})"), (Keys{"d4", "a1"}));
  EXPECT_EQ(w(R"({"path": "environment", "op": "ne", "value": "prod"})"), (Keys{"c3", "b2"}));
  EXPECT_EQ(w(R"({"path": "status", "op": "eq", "value": "running"})"), (Keys{"c3"}));
  EXPECT_EQ(w(R"({"path": "started_at", "op": "gt", "value": "2026-11-22T10:00:02Z"})"),
            (Keys{"d4", "c3"}));
  EXPECT_EQ(w(R"({"path": "started_at", "op": "gte", "value": 1795341602000})"),
            (Keys{"d4", "c3", "b2"}));
  EXPECT_EQ(w(R"({"path": "started_at", "op": "lt", "value": "2026-11-22T11:00:02+01:00"})"),
            (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "started_at", "op": "lte", "value": "2026-11-22T10:00:02Z"})"),
            (Keys{"b2", "a1"}));
  EXPECT_EQ(w(R"({"path": "ended_at", "op": "lt", "value": "2026-11-22T10:00:03Z"})"),
            (Keys{"b2"}));
  EXPECT_EQ(w(R"({"path": "ended_at", "op": "ne", "value": "2026-11-22T10:00:03Z"})"),
            (Keys{"d4", "c3", "b2"}));
  EXPECT_EQ(w(R"({"path": "duration_ms", "op": "gt", "value": 1000})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "duration_ms", "op": "eq", "value": 500})"), (Keys{"d4", "b2"}));
  EXPECT_EQ(w(R"({"path": "duration_ms", "op": "ne", "value": 500})"), (Keys{"c3", "a1"}));
  EXPECT_EQ(w(R"({"path": "step_count", "op": "gt", "value": 2})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "step_count", "op": "in", "value": [1]})"), (Keys{"d4", "c3"}));
  EXPECT_EQ(w(R"({"path": "step_count", "op": "lte", "value": 2})"), (Keys{"d4", "c3", "b2"}));
  EXPECT_EQ(w(R"({"path": "step_count", "op": "gte", "value": 2.5})"), (Keys{"a1"}));
  // JSON paths compare JSON values.
  EXPECT_EQ(w(R"({"path": "metadata.useCase", "op": "eq", "value": "search"})"),
            (Keys{"b2", "a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.useCase", "op": "ne", "value": "search"})"),
            (Keys{"d4", "c3"}));
  EXPECT_EQ(w(R"({"path": "metadata.rank", "op": "eq", "value": 3})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.rank", "op": "eq", "value": "3"})"), (Keys{"b2"}));
  EXPECT_EQ(w(R"({"path": "metadata.rank", "op": "gt", "value": 2})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.productId", "op": "gt", "value": "B01"})"), (Keys{"b2"}));
  EXPECT_EQ(w(R"({"path": "metadata.productId", "op": "gte", "value": "B01"})"),
            (Keys{"b2", "a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.productId", "op": "lt", "value": "B02"})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.productId", "op": "lte", "value": "B02"})"),
            (Keys{"b2", "a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.useCase", "op": "in", "value": ["loan", 1]})"), (Keys{"c3"}));
  EXPECT_EQ(w(R"({"path": "metadata.nested.k", "op": "exists", "value": true})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.productId", "op": "exists", "value": false})"),
            (Keys{"d4", "c3"}));
  EXPECT_EQ(w(R"({"path": "metadata.flags", "op": "contains", "value": "X"})"), (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.useCase", "op": "contains", "value": "SEA"})"),
            (Keys{"b2", "a1"}));
  EXPECT_EQ(w(R"({"path": "metadata", "op": "contains", "value": {"useCase": "loan"}})"),
            (Keys{"c3"}));
  EXPECT_EQ(w(R"({"path": "metadata.nested", "op": "contains", "value": {"k": "v"}})"),
            (Keys{"a1"}));
  EXPECT_EQ(w(R"({"path": "metadata.rank", "op": "contains", "value": 3})"), (Keys{"a1"}));
  // Combinations; `not` is the exact complement, missing values included.
  EXPECT_EQ(w(R"({"and": [{"path": "app", "op": "eq", "value": "shop"},
                          {"path": "status", "op": "ne", "value": "failed"}]})"),
            (Keys{"d4", "a1"}));
  EXPECT_EQ(w(R"({"or": [{"path": "status", "op": "eq", "value": "failed"},
                         {"path": "metadata.useCase", "op": "eq", "value": "loan"}]})"),
            (Keys{"c3", "b2"}));
  EXPECT_EQ(w(R"({"not": {"path": "environment", "op": "eq", "value": "prod"}})"),
            (Keys{"c3", "b2"}));
  EXPECT_EQ(w(R"({"not": {"path": "metadata.rank", "op": "gt", "value": 2}})"),
            (Keys{"d4", "c3", "b2"}));
}

TEST_F(Explorer, FiltersStepsWithEachOperator) {
  start_seeded();
  const auto w = [&](const std::string& filter) { return where("steps", filter); };
  EXPECT_EQ(w(R"({"path": "name", "op": "eq", "value": "filter"})"),
            (Keys{"d4/0", "b2/0", "a1/1"}));
  EXPECT_EQ(w(R"({"path": "index", "op": "eq", "value": 0})"),
            (Keys{"d4/0", "c3/0", "b2/0", "a1/0"}));
  EXPECT_EQ(w(R"({"path": "index", "op": "gt", "value": 1})"), (Keys{"a1/2"}));
  EXPECT_EQ(w(R"({"path": "status", "op": "eq", "value": "failed"})"), (Keys{"b2/1"}));
  EXPECT_EQ(w(R"({"path": "status", "op": "ne", "value": "completed"})"), (Keys{"b2/1"}));
  EXPECT_EQ(w(R"({"path": "name", "op": "lt", "value": "keywords"})"),
            (Keys{"d4/0", "b2/0", "a1/1"}));
  EXPECT_EQ(w(R"({"path": "selection", "op": "exists", "value": true})"), (Keys{"a1/2"}));
  EXPECT_EQ(w(R"({"path": "metadata.filteredCount", "op": "ne", "value": 9})"),
            (Keys{"d4/0", "c3/0", "b2/0", "b2/1", "a1/0", "a1/2"}));
  EXPECT_EQ(w(R"({"path": "filters", "op": "contains", "value": {"price": {"max": 40}}})"),
            (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "candidates_in", "op": "in", "value": [2, 4]})"), (Keys{"d4/0", "b2/0"}));
  EXPECT_EQ(w(R"({"path": "app", "op": "eq", "value": "bank"})"), (Keys{"c3/0"}));
  EXPECT_EQ(w(R"({"path": "execution_id", "op": "eq", "value": "a1"})"),
            (Keys{"a1/0", "a1/1", "a1/2"}));
  EXPECT_EQ(w(R"({"path": "candidates_in", "op": "gte", "value": 5})"), (Keys{"c3/0", "a1/1"}));
  EXPECT_EQ(w(R"({"path": "candidates_passed", "op": "eq", "value": 0})"), (Keys{"b2/0"}));
  EXPECT_EQ(w(R"({"path": "eliminated_ratio", "op": "gte", "value": 0.9})"),
            (Keys{"b2/0", "a1/1"}));
  EXPECT_EQ(w(R"({"path": "eliminated_ratio", "op": "gt", "value": 0.9})"), (Keys{"b2/0"}));
  EXPECT_EQ(w(R"({"path": "eliminated_ratio", "op": "lt", "value": 0.3})"), (Keys{"c3/0"}));
  EXPECT_EQ(w(R"({"path": "reasoning", "op": "contains", "value": "rating"})"), (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "started_at", "op": "gte", "value": "2026-11-22T10:00:01.5Z"})"),
            (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "duration_ms", "op": "eq", "value": 250})"), (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "filters.minRating", "op": "eq", "value": 4})"), (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "filters.price.max", "op": "lte", "value": 40})"), (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "selection.id", "op": "eq", "value": "B07"})"), (Keys{"a1/2"}));
  EXPECT_EQ(w(R"({"path": "metadata.filteredCount", "op": "gt", "value": 5})"), (Keys{"a1/1"}));
  EXPECT_EQ(w(R"({"path": "execution.pipeline", "op": "eq", "value": "loan-approval"})"),
            (Keys{"c3/0"}));
  EXPECT_EQ(w(R"({"path": "execution.environment", "op": "eq", "value": "staging"})"),
            (Keys{"b2/0", "b2/1"}));
  EXPECT_EQ(w(R"({"path": "execution.status", "op": "in", "value": ["failed", "running"]})"),
            (Keys{"c3/0", "b2/0", "b2/1"}));
  json::object body = query(
      R"({"target": "steps", "where": {"path": "selection", "op": "exists", "value": true}})");
  const json::object& row = body["rows"].as_array().at(0).as_object();
  EXPECT_EQ(row.at("name"), "select");
  EXPECT_EQ(row.at("pipeline"), "competitor-selection");
  EXPECT_EQ(row.at("selection").as_object().at("id"), "B07");
  EXPECT_EQ(row.at("execution_url"), "/v1/executions/shop/a1");
  EXPECT_FALSE(row.contains("evaluations"));
}

TEST_F(Explorer, FiltersEvaluationsWithEachOperator) {
  start_seeded();
  const auto w = [&](const std::string& filter) { return where("evaluations", filter); };
  EXPECT_EQ(w(R"({"path": "passed", "op": "eq", "value": false})"),
            split("c3/0/4,b2/0/0,b2/0/1,b2/0/2,b2/0/3," + range("a1/1/", 1, 9)));
  EXPECT_EQ(w(R"({"path": "passed", "op": "ne", "value": true})"),
            split("d4/0/1,c3/0/4,b2/0/0,b2/0/1,b2/0/2,b2/0/3," + range("a1/1/", 1, 9)));
  EXPECT_EQ(w(R"({"path": "passed", "op": "in", "value": [true]})"),
            split("d4/0/0," + range("c3/0/", 0, 3) + ",a1/1/0"));
  EXPECT_EQ(w(R"({"path": "reasons", "op": "contains", "value": "PRICE"})"),
            split(range("b2/0/", 0, 3) + "," + range("a1/1/", 6, 9)));
  EXPECT_EQ(w(R"({"path": "reasons", "op": "exists", "value": false})"),
            split("d4/0/0," + range("c3/0/", 0, 3) + ",a1/1/0"));
  EXPECT_EQ(w(R"({"path": "reasons", "op": "eq", "value": ["rating unknown"]})"), (Keys{"d4/0/1"}));
  EXPECT_EQ(w(R"({"path": "reasons", "op": "ne", "value": []})"),
            split("d4/0/1,c3/0/4," + range("b2/0/", 0, 3) + "," + range("a1/1/", 1, 9)));
  EXPECT_EQ(w(R"({"path": "scores.rating", "op": "gte", "value": 4.8})"),
            split("d4/0/0," + range("b2/0/", 0, 3)));
  EXPECT_EQ(w(R"({"path": "scores.rating", "op": "lt", "value": 3.5})"),
            split(range("a1/1/", 1, 5)));
  EXPECT_EQ(w(R"({"path": "scores.rating", "op": "lte", "value": 3.1})"),
            split(range("a1/1/", 1, 5)));
  EXPECT_EQ(w(R"({"path": "scores.rating", "op": "gt", "value": 4.8})"), (Keys{"d4/0/0"}));
  EXPECT_EQ(w(R"({"path": "scores.rating", "op": "in", "value": [4.9, 4.6]})"),
            (Keys{"d4/0/0", "a1/1/0"}));
  EXPECT_EQ(w(R"({"path": "metadata", "op": "exists", "value": true})"), (Keys{"c3/0/4"}));
  EXPECT_EQ(w(R"({"path": "candidate_id", "op": "ne", "value": "A0"})").size(), 20u);
  EXPECT_EQ(w(R"({"path": "step_index", "op": "lte", "value": 0})").size(), 11u);
  EXPECT_EQ(w(R"({"path": "scores", "op": "exists", "value": false})"), (Keys{"d4/0/1", "c3/0/4"}));
  EXPECT_EQ(w(R"({"path": "candidate_id", "op": "in", "value": ["A0", "C4"]})"),
            (Keys{"c3/0/4", "a1/1/0"}));
  EXPECT_EQ(w(R"({"path": "candidate_id", "op": "contains", "value": "d"})"),
            (Keys{"d4/0/0", "d4/0/1"}));
  EXPECT_EQ(w(R"({"path": "step.name", "op": "eq", "value": "score"})"),
            split(range("c3/0/", 0, 4)));
  EXPECT_EQ(w(R"({"path": "execution.pipeline", "op": "eq", "value": "loan-approval"})"),
            split(range("c3/0/", 0, 4)));
  EXPECT_EQ(w(R"({"path": "metadata.note", "op": "contains", "value": "manual"})"),
            (Keys{"c3/0/4"}));
  EXPECT_EQ(w(R"({"path": "step_index", "op": "gt", "value": 0})"), split(range("a1/1/", 0, 9)));
  EXPECT_EQ(w(R"({"path": "app", "op": "eq", "value": "bank"})"), split(range("c3/0/", 0, 4)));
  EXPECT_EQ(w(R"({"path": "execution_id", "op": "eq", "value": "d4"})"),
            (Keys{"d4/0/0", "d4/0/1"}));
  json::object body = query(
      R"({"target": "evaluations", "where": {"path": "candidate_id", "op": "eq", "value": "C4"}})");
  const json::object& row = body["rows"].as_array().at(0).as_object();
  EXPECT_EQ(row.at("step_name"), "score");
  EXPECT_EQ(row.at("passed"), false);
  EXPECT_EQ(row.at("reasons").as_array().at(0), "income below minimum");
  EXPECT_EQ(row.at("execution_url"), "/v1/executions/bank/c3");
}

TEST_F(Explorer, AnswersTheEliminationsQuestionExactly) {
  start_seeded();
  const auto steps = [&](const std::string& params) {
    json::object body = get("/v1/insights/eliminations" + params);
    expect_links(body["steps"].as_array());
    return body["steps"].as_array();
  };
  // Default min_ratio 0.9: strictly more than 90 % eliminated.
  json::array strict = steps("");
  EXPECT_EQ(keys(strict), (Keys{"b2/0"}));
  const json::object& b2 = strict.at(0).as_object();
  EXPECT_EQ(b2.at("app"), "shop");
  EXPECT_EQ(b2.at("pipeline"), "competitor-selection");
  EXPECT_EQ(b2.at("name"), "filter");
  EXPECT_EQ(b2.at("candidates_in"), 4);
  EXPECT_EQ(b2.at("candidates_passed"), 0);
  EXPECT_EQ(b2.at("eliminated_ratio").to_number<double>(), 1.0);
  EXPECT_EQ(b2.at("started_at"), "2026-11-22T10:00:02.000Z");
  EXPECT_EQ(keys(steps("?min_ratio=0.85")), (Keys{"b2/0", "a1/1"}));
  EXPECT_EQ(steps("?min_ratio=0.85").at(1).as_object().at("eliminated_ratio").to_number<double>(),
            0.9);
  EXPECT_EQ(keys(steps("?min_ratio=0.4")), (Keys{"d4/0", "b2/0", "a1/1"}));
  EXPECT_EQ(keys(steps("?min_ratio=0")), (Keys{"d4/0", "c3/0", "b2/0", "a1/1"}));
  EXPECT_EQ(keys(steps("?min_ratio=0.1&pipeline=loan-approval")), (Keys{"c3/0"}));
  EXPECT_EQ(keys(steps("?min_ratio=0&app=shop&step=filter&since=2026-11-22T10:00:02Z")),
            (Keys{"d4/0", "b2/0"}));
  EXPECT_EQ(keys(steps("?min_ratio=1")), (Keys{}));
}

TEST_F(Explorer, AnswersTheFailedCandidatesQuestionExactly) {
  start_seeded();
  const auto candidates = [&](const std::string& params) {
    json::object body = get("/v1/insights/failed-candidates?" + params);
    expect_links(body["candidates"].as_array());
    return body["candidates"].as_array();
  };
  // "rating": the undecided D1 and the five below the rating.
  json::array rating = candidates("reason=RATING");
  EXPECT_EQ(keys(rating), split("d4/0/1," + range("a1/1/", 1, 5)));
  const json::object& a3 = rating.at(3).as_object();
  EXPECT_EQ(a3.at("candidate_id"), "A3");
  EXPECT_EQ(a3.at("step_name"), "filter");
  EXPECT_EQ(a3.at("pipeline"), "competitor-selection");
  EXPECT_EQ(a3.at("reasons"), (json::array{"rating 3.1 < 4.0"}));
  EXPECT_EQ(a3.at("scores").as_object().at("rating").to_number<double>(), 3.1);
  EXPECT_EQ(keys(candidates("reason=price&app=shop")),
            split(range("b2/0/", 0, 3) + "," + range("a1/1/", 6, 9)));
  EXPECT_EQ(keys(candidates("reason=income")), (Keys{"c3/0/4"}));
  EXPECT_EQ(keys(candidates("reason=rating&candidate_id=A3")), (Keys{"a1/1/3"}));
  EXPECT_EQ(keys(candidates("reason=price&until=2026-11-22T10:00:02Z")),
            split(range("a1/1/", 6, 9)));
  EXPECT_EQ(keys(candidates("reason=rating&step=select")), (Keys{}));
  EXPECT_EQ(keys(candidates("reason=nothing-like-this")), (Keys{}));
}

// Lists of steps and evaluations (and the steps a shape samples) walk
// executions newest first and probe each one's rows by primary key,
// whatever the planner estimates. Turning
// nested loops off stands for an underestimate of the matching rows (as
// before the first ANALYZE of a fast-growing evaluations table), which made
// PostgreSQL scan and hash every evaluation instead: seconds per page on a
// few million rows, and 504s on the dashboard during heavy ingestion.
TEST_F(Explorer, FindsStepsAndEvaluationsByWalkingExecutionsWhateverThePlannerEstimates) {
  start_seeded();
  auto conn = xrayd::PgConnection::connect(pg().conninfo(), "test-planner");
  ASSERT_TRUE(conn.has_value()) << conn.error().message;
  ASSERT_TRUE((*conn)->exec("SET enable_nestloop = off; SET enable_seqscan = off").has_value());
  const auto plan_of = [&](boost::beast::http::verb method, const std::string& target,
                           const std::string& body = "") {
    const xrayd::Plan plan =
        xrayd::plan_request({method, target, body.empty() ? "" : "application/json", body}, {}, {});
    const auto* query = std::get_if<xrayd::QueryPlan>(&plan);
    if (query == nullptr) return std::string("<not a query>");
    auto rows = (*conn)->query("EXPLAIN " + query->sql, query->params);
    if (!rows) return rows.error().message;
    std::string text;
    for (std::size_t i = 0; i < rows->rows(); ++i) text.append(rows->get(i, 0)).append("\n");
    return text;
  };
  const auto kGet = boost::beast::http::verb::get;
  const auto kPost = boost::beast::http::verb::post;
  const std::string cursor = std::string(
      get("/v1/insights/failed-candidates?reason=price&limit=1").at("next_cursor").as_string());
  for (const std::string& plan : {
           plan_of(kGet, "/v1/insights/failed-candidates?reason=rating&limit=2"),
           plan_of(kGet, "/v1/insights/failed-candidates?reason=price&app=shop&cursor=" + cursor),
           plan_of(kGet, "/v1/insights/eliminations?min_ratio=0.5&pipeline=competitor-selection"),
           plan_of(kPost, "/v1/query",
                   R"({"target": "evaluations", "where": {"path": "passed", "op": "eq", )"
                   R"("value": false}})"),
           plan_of(kPost, "/v1/query",
                   R"({"target": "steps", "where": {"path": "name", "op": "eq", )"
                   R"("value": "filter"}})"),
           plan_of(kGet, "/v1/steps/shape?step=filter&pipeline=competitor-selection"),
       }) {
    // An index walk of executions, and steps and evaluations read by an
    // index for each execution: never a whole table scanned and then joined.
    EXPECT_TRUE(plan.find("Index Scan using executions_") != std::string::npos ||
                plan.find("Index Only Scan using executions_") != std::string::npos)
        << plan;
    EXPECT_EQ(plan.find("Seq Scan"), std::string::npos) << plan;
    std::istringstream lines(plan);
    int probes = 0;
    for (std::string line, next; std::getline(lines, line);) {
      if (line.find(" on steps s") == std::string::npos &&
          line.find(" on evaluations v") == std::string::npos) {
        continue;
      }
      std::getline(lines, next);
      EXPECT_TRUE(next.find("Index Cond: ") != std::string::npos &&
                  next.find("(app = e.app)") != std::string::npos)
          << line << "\n"
          << plan;
      ++probes;
    }
    EXPECT_GT(probes, 0) << plan;
  }
}

TEST_F(Explorer, ShowsOneExecutionWithItsStepsAndEvaluations) {
  start_seeded();
  json::object page = get("/v1/executions/shop/a1");
  const json::object& e = page["execution"].as_object();
  EXPECT_EQ(e.at("id"), "a1");
  EXPECT_EQ(e.at("result").as_object().at("selected"), "A0");
  EXPECT_TRUE(e.at("error").is_null());
  const json::array& steps = page["steps"].as_array();
  ASSERT_EQ(steps.size(), 3u);
  const json::object& filter = steps[1].as_object();
  EXPECT_EQ(filter.at("index"), 1);
  EXPECT_EQ(filter.at("name"), "filter");
  EXPECT_EQ(filter.at("candidates_in"), 10);
  EXPECT_EQ(filter.at("candidates_passed"), 1);
  EXPECT_EQ(filter.at("duration_ms").to_number<double>(), 250.0);
  EXPECT_EQ(filter.at("started_at"), "2026-11-22T10:00:01.500Z");
  EXPECT_EQ(filter.at("input").as_object().at("candidates"), 10);
  EXPECT_EQ(filter.at("filters").as_object().at("price").as_object().at("max"), 40);
  EXPECT_EQ(filter.at("reasoning"), "Dropped candidates below the RATING threshold");
  const json::array& evals = filter.at("evaluations").as_array();
  ASSERT_EQ(evals.size(), 10u);
  for (std::size_t i = 0; i < evals.size(); ++i) {
    EXPECT_EQ(evals[i].as_object().at("position"), static_cast<std::int64_t>(i));
    EXPECT_EQ(std::string(evals[i].as_object().at("candidate_id").as_string()),
              "A" + std::to_string(i));
  }
  EXPECT_EQ(evals[7].as_object().at("reasons"), (json::array{"price 49.99 > 40"}));
  EXPECT_EQ(filter.at("evaluations_truncated"), false);
  EXPECT_EQ(steps[0].as_object().at("evaluations").as_array().size(), 0u);
  EXPECT_EQ(steps[2].as_object().at("selection").as_object().at("id"), "B07");
  // Bounded evaluations.
  json::object bounded = get("/v1/executions/shop/a1?evaluations_limit=3");
  const json::object& f3 = bounded["steps"].as_array()[1].as_object();
  EXPECT_EQ(f3.at("evaluations").as_array().size(), 3u);
  EXPECT_EQ(f3.at("evaluations_truncated"), true);
  // The failed one carries its error.
  EXPECT_EQ(
      get("/v1/executions/shop/b2")["execution"].as_object().at("error").as_object().at("message"),
      "no candidate left");
  json::object missing = get("/v1/executions/shop/nope", 404);
  EXPECT_EQ(missing["code"], "not_found");
  get("/v1/executions/bank/a1", 404);
}

TEST_F(Explorer, FindsExecutionsWhoseIdsNeedEscaping) {
  start();
  json::object s = json::parse(R"({"app": "my app", "id": "x/y?z é", "pipeline": "p",
      "status": "completed", "started_at": "2026-11-22T10:00:00Z"})")
                       .as_object();
  ingest({json::serialize(s)});
  json::object list = get("/v1/executions?app=my+app");
  const std::string url(
      list["executions"].as_array().at(0).as_object().at("execution_url").as_string());
  EXPECT_EQ(url, "/v1/executions/my%20app/x%2Fy%3Fz%20%C3%A9");
  EXPECT_EQ(get(url)["execution"].as_object().at("id"), "x/y?z é");
}

TEST_F(Explorer, PagesStayStableUnderConcurrentInserts) {
  start();
  // 60 older executions, several sharing a started_at so that ties are
  // ordered by (app, id).
  std::vector<std::string> seeded;
  std::set<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    const std::string id = "old-" + std::to_string(1000 + i);
    json::object s{{"id", id},
                   {"app", i % 3 == 0 ? "alpha" : "beta"},
                   {"pipeline", "p"},
                   {"status", "completed"},
                   {"started_at", 1795341600000 + (i / 4) * 1000}};
    seeded.push_back(json::serialize(s));
    expected.insert(id);
  }
  ingest(seeded);
  // Newer executions arrive while the client pages.
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0};
  std::thread writer([&] {
    HttpClient client(daemon_.http_port());
    for (int i = 0; !stop.load() && i < 500; ++i) {
      json::object s{{"id", "new-" + std::to_string(i)},
                     {"app", "alpha"},
                     {"pipeline", "p"},
                     {"status", "completed"},
                     {"started_at", 1895341600000 + i}};
      if (client.post("/v1/executions", "application/json", json::serialize(s)).status == 200) {
        ++inserted;
      }
    }
  });
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    json::object page = get("/v1/executions?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (const auto& id : keys(page["executions"].as_array())) {
      // Rows newer than the first page can only be on the first page.
      if (pages > 0) {
        EXPECT_EQ(id.rfind("new-", 0), std::string::npos) << id;
      }
      seen.push_back(id);
    }
    ++pages;
    if (page["next_cursor"].is_null()) break;
    cursor = std::string(page["next_cursor"].as_string());
    ASSERT_LT(pages, 200);
    // Let the writer get ahead between pages.
    std::this_thread::sleep_for(milliseconds(20));
  }
  stop = true;
  writer.join();
  EXPECT_GT(inserted.load(), 0);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a row was repeated";
  std::set<std::string> old;
  for (const auto& id : seen) {
    if (id.rfind("old-", 0) == 0) old.insert(id);
  }
  EXPECT_EQ(old, expected) << "a row was skipped";
}

TEST_F(Explorer, PagesQueryResultsWithCursors) {
  start_seeded();
  std::vector<std::string> all;
  std::string cursor = "null";
  for (int page = 0; page < 20; ++page) {
    json::object body = query(R"({"target": "evaluations", "limit": 4, "cursor": )" + cursor +
                              R"(, "where": {"path": "passed", "op": "ne", "value": true}})");
    for (const auto& k : keys(body["rows"].as_array())) all.push_back(k);
    if (body["next_cursor"].is_null()) break;
    cursor = "\"" + std::string(body["next_cursor"].as_string()) + "\"";
  }
  EXPECT_EQ(all, split("d4/0/1,c3/0/4,b2/0/0,b2/0/1,b2/0/2,b2/0/3," + range("a1/1/", 1, 9)));
  // Eliminations page too.
  json::object first = get("/v1/insights/eliminations?min_ratio=0&limit=3");
  EXPECT_EQ(keys(first["steps"].as_array()), (Keys{"d4/0", "c3/0", "b2/0"}));
  json::object second = get("/v1/insights/eliminations?min_ratio=0&limit=3&cursor=" +
                            std::string(first["next_cursor"].as_string()));
  EXPECT_EQ(keys(second["steps"].as_array()), (Keys{"a1/1"}));
  EXPECT_TRUE(second["next_cursor"].is_null());
}

TEST_F(Explorer, RefusesInjectionAttemptsOrRendersThemHarmless) {
  start_seeded();
  const std::string drop = "'; DROP TABLE executions; --";
  const std::string drop_url = "%27%3B%20DROP%20TABLE%20executions%3B%20--";
  // In values: bound as parameters, so they only fail to match.
  EXPECT_EQ(keys(get("/v1/executions?app=" + drop_url)["executions"].as_array()), (Keys{}));
  EXPECT_EQ(
      keys(get("/v1/executions?q=" + drop_url + "&meta." + drop_url + "=" + drop_url)["executions"]
               .as_array()),
      (Keys{}));
  EXPECT_EQ(keys(get("/v1/insights/failed-candidates?reason=" + drop_url)["candidates"].as_array()),
            (Keys{}));
  EXPECT_EQ(get("/v1/executions/" + drop_url + "/" + drop_url, 404)["code"], "not_found");
  json::string value(drop);
  EXPECT_EQ(where("executions",
                  R"({"path": "app", "op": "eq", "value": )" + json::serialize(value) + "}"),
            (Keys{}));
  EXPECT_EQ(where("steps", R"({"path": "metadata.x", "op": "contains", "value": )" +
                               json::serialize(value) + "}"),
            (Keys{}));
  EXPECT_EQ(where("evaluations", R"({"path": "reasons", "op": "contains", "value": )" +
                                     json::serialize(value) + "}"),
            (Keys{}));
  // In paths, operators and targets: refused, naming the field.
  const auto refused = [&](const std::string& body, const std::string& field) {
    json::object answer = query(body, 400);
    EXPECT_EQ(answer["code"], "bad_query") << body;
    EXPECT_EQ(std::string(answer["field"].as_string()), field) << body;
  };
  refused(
      R"({"target": "executions", "where": {"path": "app = app; DROP TABLE executions; --", "op": "eq", "value": 1}})",
      "where.path");
  refused(
      R"({"target": "executions", "where": {"path": "metadata.x') OR 1=1 --", "op": "eq", "value": 1}})",
      "where.path");
  refused(
      R"({"target": "executions", "where": {"and": [{"path": "app", "op": "= 'x' OR 1=1 --", "value": 1}]}})",
      "where.and[0].op");
  refused(R"({"target": "executions; DROP TABLE executions", "where": null})", "target");
  refused(
      R"({"target": "executions", "cursor": "WyJlIiwxLCJhJyk7IERST1AgVEFCTEUgZXhlY3V0aW9uczsgLS0iXQ"})",
      "cursor");
  EXPECT_EQ(get("/v1/executions?cursor=" + drop_url, 400)["field"], "cursor");
  EXPECT_EQ(std::string(get("/v1/executions?" + drop_url + "=1", 400)["field"].as_string()), drop);
  // Everything is still there.
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions"), 4);
  EXPECT_EQ(pg().count("SELECT count(*) FROM steps"), 7);
  EXPECT_EQ(pg().count("SELECT count(*) FROM evaluations"), 21);
}

TEST_F(Explorer, DescribesTheShapeOfAStepsJson) {
  start_seeded();
  json::object shape = get("/v1/steps/shape?step=filter");
  EXPECT_EQ(shape["step"], "filter");
  EXPECT_EQ(shape["sampled"], 3);
  std::vector<std::string> fields;
  for (const auto& f : shape["fields"].as_array()) {
    const json::object& o = f.as_object();
    std::string types;
    for (const auto& t : o.at("types").as_array()) types += std::string(t.as_string()) + "|";
    fields.push_back(std::string(o.at("section").as_string()) + " " +
                     std::string(o.at("path").as_string()) + " " + types + " " +
                     std::to_string(o.at("count").as_int64()) + " " +
                     std::string(o.at("last_seen").as_string()));
  }
  EXPECT_EQ(fields, (std::vector<std::string>{
                        "input candidates string|number| 3 2026-11-22T10:00:04.000Z",
                        "input query object| 1 2026-11-22T10:00:01.000Z",
                        "input query.q string| 1 2026-11-22T10:00:01.000Z",
                        "output kept array| 1 2026-11-22T10:00:01.000Z",
                        "output kept[] string| 1 2026-11-22T10:00:01.000Z",
                        "filters minRating number| 1 2026-11-22T10:00:01.000Z",
                        "filters price object| 1 2026-11-22T10:00:01.000Z",
                        "filters price.max number| 1 2026-11-22T10:00:01.000Z",
                        "metadata filteredCount number| 1 2026-11-22T10:00:01.000Z",
                    }));
  json::object newest = get("/v1/steps/shape?step=filter&app=shop&sample=1");
  EXPECT_EQ(newest["sampled"], 1);
  ASSERT_EQ(newest["fields"].as_array().size(), 1u);
  EXPECT_EQ(newest["fields"].as_array()[0].as_object().at("types"), (json::array{"string"}));
  EXPECT_EQ(get("/v1/steps/shape?step=nothing")["sampled"], 0);
}

TEST_F(Explorer, SummarisesPipelinesAndTheirAnalytics) {
  start_seeded();
  json::object pipelines = get("/v1/pipelines");
  EXPECT_EQ(
      json::serialize(pipelines["pipelines"]),
      R"([{"app":"bank","pipeline":"loan-approval","executions":1,"failed":0,"last_started_at":"2026-11-22T10:00:03.000Z"},)"
      R"({"app":"shop","pipeline":"competitor-selection","executions":3,"failed":1,"last_started_at":"2026-11-22T10:00:04.000Z"}])");
  json::object a =
      get(std::string("/v1/analytics/pipeline?app=shop&pipeline=competitor-selection&since=") +
          kBase + "&until=2026-11-22T10:03:00Z&bucket=minute");
  EXPECT_EQ(json::serialize(a["runs"]),
            R"([{"bucket":"2026-11-22T10:00:00.000Z","total":3,"failed":1},)"
            R"({"bucket":"2026-11-22T10:01:00.000Z","total":0,"failed":0},)"
            R"({"bucket":"2026-11-22T10:02:00.000Z","total":0,"failed":0}])");
  EXPECT_NEAR(a["failure_rate"].to_number<double>(), 1.0 / 3.0, 1e-12);
  EXPECT_EQ(
      json::serialize(a["funnel"]),
      R"([{"index":0,"name":"filter","runs":2,"avg_candidates_in":3,"avg_candidates_passed":5E-1},)"
      R"({"index":0,"name":"keywords","runs":1,"avg_candidates_in":null,"avg_candidates_passed":null},)"
      R"({"index":1,"name":"filter","runs":1,"avg_candidates_in":10,"avg_candidates_passed":1},)"
      R"({"index":1,"name":"select","runs":1,"avg_candidates_in":null,"avg_candidates_passed":null},)"
      R"({"index":2,"name":"select","runs":1,"avg_candidates_in":null,"avg_candidates_passed":null}])");
  // The default range is the last 24 hours (24 buckets, 25 when it does not
  // start on the hour), and these runs are older.
  json::object recent = get("/v1/analytics/pipeline?pipeline=competitor-selection");
  EXPECT_GE(recent["runs"].as_array().size(), 24u);
  EXPECT_LE(recent["runs"].as_array().size(), 25u);
  EXPECT_EQ(recent["failure_rate"].to_number<double>(), 0.0);
  EXPECT_EQ(recent["funnel"].as_array().size(), 0u);
}

TEST_F(Explorer, StreamsCommittedExecutionsFilteredByAppAndPipeline) {
  start();
  HttpClient shop(daemon_.explorer_port());
  ASSERT_TRUE(shop.send_raw("GET /v1/stream?app=shop HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string head = shop.read_until(": subscribed", seconds(10));
  ASSERT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
  EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Content-Type-Options: nosniff"), std::string::npos) << head;
  HttpClient loans(daemon_.explorer_port());
  ASSERT_TRUE(loans.send_raw(
      "GET /v1/stream?app=bank&pipeline=loan-approval HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_NE(loans.read_until(": subscribed", seconds(10)).find(": subscribed"), std::string::npos);

  ingest(seed_snapshots());
  std::string events;
  const auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (std::chrono::steady_clock::now() < deadline &&
         (events.find("\"a1\"") == std::string::npos ||
          events.find("\"b2\"") == std::string::npos ||
          events.find("\"d4\"") == std::string::npos)) {
    events += shop.read_until("\n\n", milliseconds(500));
  }
  for (const char* id : {"a1", "b2", "d4"}) {
    EXPECT_NE(events.find(std::string("\"id\" : \"") + id + "\""), std::string::npos)
        << id << " missing from: " << events;
  }
  EXPECT_EQ(events.find("\"c3\""), std::string::npos) << events;
  EXPECT_NE(events.find("event: execution\ndata: {"), std::string::npos) << events;
  EXPECT_NE(events.find("\"execution_url\" : \"/v1/executions/shop/a1\""), std::string::npos);
  std::string loan_events = loans.read_until("\"c3\"", seconds(20));
  EXPECT_NE(loan_events.find("\"id\" : \"c3\""), std::string::npos) << loan_events;
  EXPECT_NE(loan_events.find("\"status\" : \"running\""), std::string::npos) << loan_events;
  EXPECT_EQ(loan_events.find("\"a1\""), std::string::npos) << loan_events;
  // Each event's data is one JSON line.
  const auto start_at = events.find("data: ") + 6;
  const std::string line = events.substr(start_at, events.find('\n', start_at) - start_at);
  json::object summary = json::parse(line).as_object();
  for (const char* key : {"app", "id", "pipeline", "environment", "status", "started_at",
                          "duration_ms", "execution_url"}) {
    EXPECT_TRUE(summary.contains(key)) << key << " in " << line;
  }
  // A re-delivered snapshot that changes nothing still commits, and is shown again.
  ingest({seed_snapshots()[0]});
  EXPECT_NE(shop.read_until("\"a1\"", seconds(20)).find("\"a1\""), std::string::npos);
  HttpReply metrics = ingest_->get("/metrics");
  EXPECT_NE(metrics.body.find("xray_stream_subscribers 2"), std::string::npos) << metrics.body;
}

TEST_F(Explorer, RefusesStreamsBeyondTheLimit) {
  start({"--explorer-max-streams=1"});
  HttpClient first(daemon_.explorer_port());
  ASSERT_TRUE(first.send_raw("GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  ASSERT_NE(first.read_until(": subscribed", seconds(10)).find(": subscribed"), std::string::npos);
  HttpReply second = api_->get("/v1/stream");
  EXPECT_EQ(second.status, 503) << second.body;
  EXPECT_EQ(second.headers["retry-after"], "1");
  EXPECT_NE(second.body.find("explorer_max_streams"), std::string::npos);
}

TEST_F(Explorer, SendsSecurityHeadersOnEveryResponse) {
  start_seeded();
  const auto check = [](const HttpReply& r, const std::string& what) {
    EXPECT_EQ(r.headers.at("x-content-type-options"), "nosniff") << what;
    EXPECT_EQ(r.headers.at("x-frame-options"), "DENY") << what;
    EXPECT_EQ(r.headers.at("referrer-policy"), "no-referrer") << what;
    EXPECT_EQ(r.headers.at("content-security-policy").rfind("default-src 'self'", 0), 0u) << what;
  };
  HttpReply list = api_->get("/v1/executions");
  check(list, "list");
  EXPECT_EQ(list.headers["cache-control"], "no-store");
  EXPECT_EQ(list.headers["content-type"], "application/json");
  HttpReply error = api_->get("/v1/executions?limit=0");
  check(error, "error");
  EXPECT_EQ(error.headers["cache-control"], "no-store");
  HttpReply index = api_->get("/");
  check(index, "index");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  HttpReply missing = api_->get("/v1/nothing");
  check(missing, "404");
  EXPECT_EQ(missing.status, 404);
  // A name that is not this machine (DNS rebinding) is refused.
  HttpReply rebound = api_->request("GET", "/v1/executions", "Host: evil.example:4001\r\n", "");
  EXPECT_EQ(rebound.status, 403) << rebound.body;
  check(rebound, "403");
  HttpReply localhost = api_->request("GET", "/v1/pipelines", "Host: localhost\r\n", "");
  EXPECT_EQ(localhost.status, 200);
}

TEST_F(Explorer, BoundsRequestBodies) {
  start();
  std::string big = R"({"target": "executions", "where": {"or": [)";
  while (big.size() < 70 * 1024) big += R"({"path": "app", "op": "eq", "value": "x"},)";
  big += R"({"path": "app", "op": "eq", "value": "x"}]}})";
  HttpReply reply = api_->post("/v1/query", "application/json", big);
  EXPECT_EQ(reply.status, 413) << reply.body;
  HttpClient fresh(daemon_.explorer_port());
  HttpReply media = fresh.post("/v1/query", "text/plain", R"({"target": "steps"})");
  EXPECT_EQ(media.status, 415) << media.body;
}

// The LISTEN sockets a process holds, from /proc (inodes of its socket fds
// matched against /proc/net/tcp* entries in state 0A).
int listening_tcp_sockets(pid_t pid) {
  std::set<std::string> inodes;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(entry.path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  int listening = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      if (state == "0A" && inodes.count(inode)) ++listening;
    }
  }
  return listening;
}

TEST_F(Explorer, ListensNowhereWhenDisabled) {
  ASSERT_TRUE(daemon_.start(pg().conninfo(), {"--explorer-listen="})) << daemon_.log();
  EXPECT_EQ(daemon_.explorer_port(), 0);
  EXPECT_NE(daemon_.log().find("explorer off"), std::string::npos) << daemon_.log();
  // Only the ingestion HTTP listener.
  EXPECT_EQ(listening_tcp_sockets(daemon_.pid()), 1);
  // Ingestion is unaffected.
  HttpClient ingest(daemon_.http_port());
  EXPECT_EQ(ingest.post("/v1/executions", "application/json", seed_snapshots()[0]).status, 200);
  DaemonProcess enabled;
  ASSERT_TRUE(enabled.start(pg().conninfo())) << enabled.log();
  EXPECT_EQ(listening_tcp_sockets(enabled.pid()), 2);
}

TEST_F(Explorer, CountsQueriesByEndpointAndOutcome) {
  start_seeded();
  get("/v1/executions");
  get("/v1/executions");
  get("/v1/executions?limit=0", 400);
  get("/v1/executions/shop/none", 404);
  query(R"({"target": "steps"})");
  HttpReply metrics = ingest_->get("/metrics");
  for (const char* line :
       {"xray_explorer_queries_total{endpoint=\"executions\",outcome=\"ok\"} 2",
        "xray_explorer_queries_total{endpoint=\"executions\",outcome=\"bad_request\"} 1",
        "xray_explorer_queries_total{endpoint=\"execution\",outcome=\"not_found\"} 1",
        "xray_explorer_queries_total{endpoint=\"query\",outcome=\"ok\"} 1",
        "xray_explorer_query_duration_seconds_count 4", "xray_explorer_query_connections_max 2",
        "xray_stream_events_dropped_total 0"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line;
  }
}

TEST_F(Explorer, AnswersQueryTimeoutsWith504) {
  start_seeded({"--query-timeout=300ms"});
  // A lock the explorer's SELECT must wait for: the wait counts against
  // statement_timeout.
  auto locker = PgLock::take(pg(), "executions");
  HttpReply r = api_->get("/v1/executions");
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"query_timeout\""), std::string::npos) << r.body;
  locker.reset();
  EXPECT_EQ(api_->get("/v1/executions").status, 200);
  HttpReply metrics = ingest_->get("/metrics");
  EXPECT_NE(metrics.body.find(
                "xray_explorer_queries_total{endpoint=\"executions\",outcome=\"timeout\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace xray::testing
