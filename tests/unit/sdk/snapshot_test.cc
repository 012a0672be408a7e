#include "sdk/src/snapshot.h"

#include <set>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/unit/sdk/fake_daemon.h"
#include "tests/unit/sdk/temp_dir.h"
#include "xray/recorder.h"

namespace xray {
namespace {

namespace json = boost::json;
using testing::FakeDaemon;
using testing::TempDir;
using testing::wait_until;

// DESIGN §3: the daemon rejects any other field, so the SDK must never write one.
const std::set<std::string> kExecutionFields = {"id",     "app",        "pipeline", "environment",
                                                "status", "started_at", "ended_at", "metadata",
                                                "result", "error",      "steps"};
const std::set<std::string> kStepFields = {"name",      "status",    "started_at", "ended_at",
                                           "input",     "output",    "filters",    "evaluations",
                                           "selection", "reasoning", "metadata",   "error"};
const std::set<std::string> kEvaluationFields = {"id", "passed", "reasons", "scores", "metadata"};

void expect_only_known_fields(const json::object& execution) {
  for (const auto& kv : execution) EXPECT_TRUE(kExecutionFields.count(kv.key())) << kv.key();
  for (const auto& step : execution.at("steps").as_array()) {
    for (const auto& kv : step.as_object()) EXPECT_TRUE(kStepFields.count(kv.key())) << kv.key();
    if (const auto* evals = step.as_object().if_contains("evaluations")) {
      for (const auto& e : evals->as_array()) {
        for (const auto& kv : e.as_object()) {
          EXPECT_TRUE(kEvaluationFields.count(kv.key())) << kv.key();
        }
      }
    }
  }
}

sdk::ExecutionRecord full_record() {
  sdk::ExecutionRecord r;
  r.id = "0192f1c2-7c1e-7a4b-9d7e-5f0c3a9b1e22";
  r.pipeline = "competitor-selection";
  r.started_ms = 1795860000123;
  r.ended_ms = 1795860002456;
  r.metadata = {{"productId", "B0C1234"}};
  r.result = {{"selected", "B0C9876"}};
  sdk::StepRecord s;
  s.name = "filter_candidates";
  s.started_ms = 1795860000200;
  s.ended_ms = 1795860000300;
  s.input = {{"candidates", 48}};
  s.output = {{"kept", 7}};
  s.filters = {{"price", {{"min", 10}, {"max", 40}}}, {"minRating", 4.0}};
  s.evaluations.push_back({"B0042", false, {"price 49.99 > 40"}, {}, {}});
  s.evaluations.push_back({"B0077", true, {}, {{"rating", 4.6}}, {{"rank", 1}}});
  s.selection = "B0077";
  s.reasoning = "dropped 41 candidates outside the price band";
  s.metadata = {{"filteredCount", 41}};
  r.steps.push_back(s);
  return r;
}

TEST(Snapshot, WritesEveryFieldOfWireFormatV1) {
  std::string text =
      sdk::serialize_snapshot({"shop", "prod"}, full_record(), sdk::ExecutionStatus::kCompleted);
  json::object o = json::parse(text).as_object();
  expect_only_known_fields(o);
  EXPECT_EQ(o.at("id").as_string(), "0192f1c2-7c1e-7a4b-9d7e-5f0c3a9b1e22");
  EXPECT_EQ(o.at("app").as_string(), "shop");
  EXPECT_EQ(o.at("environment").as_string(), "prod");
  EXPECT_EQ(o.at("pipeline").as_string(), "competitor-selection");
  EXPECT_EQ(o.at("status").as_string(), "completed");
  EXPECT_EQ(o.at("started_at").as_string(), "2026-11-28T10:00:00.123Z");
  EXPECT_EQ(o.at("ended_at").as_string(), "2026-11-28T10:00:02.456Z");
  EXPECT_EQ(o.at("result").at("selected").as_string(), "B0C9876");
  const auto& step = o.at("steps").as_array().at(0).as_object();
  EXPECT_EQ(step.at("name").as_string(), "filter_candidates");
  EXPECT_EQ(step.at("status").as_string(), "completed");
  EXPECT_EQ(step.at("filters").at("price").at("max").as_int64(), 40);
  const auto& evals = step.at("evaluations").as_array();
  EXPECT_EQ(evals[0].at("id").as_string(), "B0042");
  EXPECT_FALSE(evals[0].at("passed").as_bool());
  EXPECT_EQ(evals[0].at("reasons").as_array()[0].as_string(), "price 49.99 > 40");
  EXPECT_EQ(evals[1].at("scores").at("rating").as_double(), 4.6);
  EXPECT_EQ(evals[1].at("metadata").at("rank").as_int64(), 1);
  EXPECT_EQ(step.at("selection").as_string(), "B0077");
  EXPECT_EQ(step.at("reasoning").as_string(), "dropped 41 candidates outside the price band");
}

TEST(Snapshot, OmitsFieldsThatWereNeverSet) {
  sdk::ExecutionRecord r;
  r.id = "x";
  r.pipeline = "p";
  r.started_ms = 0;
  sdk::StepRecord s;
  s.name = "only-a-name";
  r.steps.push_back(s);
  std::string text = sdk::serialize_snapshot({"a", ""}, r, sdk::ExecutionStatus::kRunning);
  EXPECT_EQ(text, R"({"id":"x","app":"a","pipeline":"p","status":"running",)"
                  R"("started_at":"1970-01-01T00:00:00.000Z","steps":[{"name":"only-a-name",)"
                  R"("status":"completed","started_at":"1970-01-01T00:00:00.000Z"}]})");
}

// --- through the public API, captured by a fake daemon

class ExecutionTest : public ::testing::Test {
 protected:
  ExecutionTest() : daemon_(dir_ / "x.sock", FakeDaemon::commit_all()) {}

  ClientConfig config() {
    ClientConfig c;
    c.socket_path = dir_ / "x.sock";
    c.app = "shop";
    return c;
  }
  // The i-th snapshot the daemon received, parsed.
  json::object received(std::size_t i) {
    EXPECT_TRUE(wait_until([&] { return daemon_.frames() > i; }));
    auto all = daemon_.payloads();
    if (all.size() <= i) return {};
    json::object o = json::parse(all[i]).as_object();
    expect_only_known_fields(o);
    return o;
  }

  TempDir dir_;
  FakeDaemon daemon_;
};

TEST_F(ExecutionTest, SendsStepsInStartOrderWithEvaluations) {
  Client client(config());
  Execution run = client.start_execution("competitor-selection", {{"productId", "B0C1234"}});
  {
    Step keywords = run.step("keywords");
    keywords.input({{"title", "Laptop stand"}}).output({{"keywords", {"laptop stand"}}});
  }
  {
    Step filter = run.step("filter");
    filter.evaluate({.id = "B0042", .passed = false, .reasons = {"price 49.99 > 40"}});
    filter.evaluate({.id = "B0077", .passed = true, .scores = {{"rating", 4.6}}});
    filter.reasoning("kept 1");
  }
  run.complete({{"selected", "B0077"}});
  EXPECT_TRUE(run.finished());

  json::object o = received(0);
  EXPECT_EQ(o.at("id").as_string(), run.id());
  EXPECT_EQ(o.at("app").as_string(), "shop");
  EXPECT_EQ(o.at("status").as_string(), "completed");
  EXPECT_EQ(o.at("metadata").at("productId").as_string(), "B0C1234");
  const auto& steps = o.at("steps").as_array();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].at("name").as_string(), "keywords");
  EXPECT_EQ(steps[1].at("name").as_string(), "filter");
  EXPECT_EQ(steps[1].at("evaluations").as_array().size(), 2u);
  EXPECT_TRUE(steps[1].as_object().contains("ended_at"));
  EXPECT_LE(steps[0].at("started_at").as_string(), steps[1].at("started_at").as_string());
}

TEST_F(ExecutionTest, MarksFailedAndSkippedSteps) {
  Client client(config());
  Execution run = client.start_execution("p");
  run.step("a").error("timeout talking to search");
  run.step("b").skip("no candidates left");
  run.fail({{"message", "search failed"}});
  json::object o = received(0);
  EXPECT_EQ(o.at("status").as_string(), "failed");
  EXPECT_EQ(o.at("error").at("message").as_string(), "search failed");
  const auto& steps = o.at("steps").as_array();
  EXPECT_EQ(steps[0].at("status").as_string(), "failed");
  EXPECT_EQ(steps[0].at("error").as_string(), "timeout talking to search");
  EXPECT_EQ(steps[1].at("status").as_string(), "skipped");
  EXPECT_EQ(steps[1].at("reasoning").as_string(), "no candidates left");
}

TEST_F(ExecutionTest, EndsOpenStepsWhenTheExecutionCompletes) {
  Client client(config());
  Execution run = client.start_execution("p");
  Step open = run.step("still-open");
  run.complete();
  open.output("ignored: the execution has finished");
  json::object o = received(0);
  const auto& step = o.at("steps").as_array()[0].as_object();
  EXPECT_TRUE(step.contains("ended_at"));
  EXPECT_FALSE(step.contains("output"));
}

TEST_F(ExecutionTest, SendsAbandonedExecutionAsFailed) {
  Client client(config());
  std::string id;
  {
    Execution run = client.start_execution("p", {{"k", "v"}});
    id = run.id();
    run.step("started");
  }
  json::object o = received(0);
  EXPECT_EQ(o.at("id").as_string(), id);
  EXPECT_EQ(o.at("status").as_string(), "failed");
  EXPECT_EQ(o.at("error").at("type").as_string(), "abandoned");
  EXPECT_TRUE(o.at("metadata").at("abandoned").as_bool());
  EXPECT_EQ(o.at("metadata").at("k").as_string(), "v");
}

TEST_F(ExecutionTest, SendsOnceWhenFinishedTwice) {
  Client client(config());
  Execution run = client.start_execution("p");
  run.complete();
  run.complete();
  run.fail("too late");
  ASSERT_TRUE(client.flush(std::chrono::seconds(5)));
  EXPECT_EQ(client.counters().recorded, 1u);
  EXPECT_EQ(daemon_.frames(), 1u);
}

TEST_F(ExecutionTest, MoveAssignmentAbandonsTheExecutionItReplaces) {
  Client client(config());
  Execution run = client.start_execution("first");
  std::string first = run.id();
  run = client.start_execution("second");
  json::object o = received(0);
  EXPECT_EQ(o.at("id").as_string(), first);
  EXPECT_EQ(o.at("error").at("type").as_string(), "abandoned");
  run.complete();
  EXPECT_EQ(received(1).at("pipeline").as_string(), "second");
}

TEST_F(ExecutionTest, DetachedExecutionIgnoresEverything) {
  Execution run;
  EXPECT_EQ(run.id(), "");
  run.step("x").input(1);
  run.complete();
  EXPECT_FALSE(run.finished());
}

TEST_F(ExecutionTest, ExecutionFinishedAfterItsClientIsDroppedAndCounted) {
  Execution run;
  {
    Client client(config());
    run = client.start_execution("outlives-client");
  }
  run.complete();  // must neither crash nor block
  EXPECT_TRUE(run.finished());
}

}  // namespace
}  // namespace xray
