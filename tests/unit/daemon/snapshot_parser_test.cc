#include "daemon/snapshot_parser.h"

#include <chrono>
#include <string>
#include <utility>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xrayd {
namespace {

namespace json = boost::json;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::sys_days;
using xray::Errc;

// The smallest valid snapshot; tests change it in one place.
json::object minimal() {
  return {{"id", "exec-1"},
          {"app", "shopping-assistant"},
          {"pipeline", "competitor-selection"},
          {"status", "completed"},
          {"started_at", "2026-11-22T10:00:00.123Z"}};
}

// A snapshot with one step holding `evaluations`.
json::object with_evaluations(json::array evaluations) {
  json::object s = minimal();
  s["steps"] = json::array{json::object{{"name", "filter"}, {"evaluations", evaluations}}};
  return s;
}

// DESIGN.md §3's example, with every optional field set.
json::object full() {
  json::object s = minimal();
  s["environment"] = "prod";
  s["ended_at"] = "2026-11-22T10:00:02.456Z";
  s["metadata"] = {{"useCase", "competitor-search"}, {"productId", "B0C1234"}};
  s["result"] = {{"selected", "B0C9876"}};
  s["error"] = nullptr;
  s["steps"] = json::array{
      json::object{
          {"name", "filter_candidates"},
          {"status", "completed"},
          {"started_at", "2026-11-22T10:00:00.200Z"},
          {"ended_at", 1795341600300},
          {"input", {{"candidates", 48}}},
          {"output", {{"kept", 7}}},
          {"filters", {{"price", {{"min", 10}, {"max", 40}}}, {"minRating", 4.0}}},
          {"evaluations", json::array{json::object{{"id", "B0042"},
                                                   {"passed", false},
                                                   {"reasons", json::array{"price 49.99 > 40"}}},
                                      json::object{{"id", "B0077"},
                                                   {"passed", true},
                                                   {"scores", {{"rating", 4.6}}},
                                                   {"metadata", {{"source", "catalog"}}}}}},
          {"selection", nullptr},
          {"reasoning", "dropped 41 candidates outside the price band"},
          {"metadata", {{"filteredCount", 41}}},
          {"error", nullptr}},
      json::object{{"name", "rank"}, {"status", "failed"}, {"error", "timeout"}}};
  return s;
}

std::string text(const json::value& v) { return json::serialize(v); }

boost::system::result<Snapshot, xray::InputError> parse(const json::value& v,
                                                        const SnapshotLimits& limits = {}) {
  return parse_snapshot(text(v), limits);
}

std::string describe(const boost::system::result<Snapshot, xray::InputError>& r) {
  if (r) return "parsed";
  return std::string(xray::errc_name(r.error().code)) + " field=\"" + r.error().field +
         "\" message=\"" + r.error().message + "\"";
}

// True when parsing `input` fails with exactly this code, field and message.
testing::AssertionResult text_fails_with(std::string_view input, Errc code, std::string_view field,
                                         std::string_view message,
                                         const SnapshotLimits& limits = {}) {
  auto r = parse_snapshot(input, limits);
  if (r) return testing::AssertionFailure() << "parsed, expected an error";
  const xray::InputError& e = r.error();
  if (e.code != code || e.field != field || e.message != message) {
    return testing::AssertionFailure()
           << describe(r) << "; expected " << xray::errc_name(code) << " field=\"" << field
           << "\" message=\"" << message << "\"";
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult fails_with(const json::value& v, Errc code, std::string_view field,
                                    std::string_view message, const SnapshotLimits& limits = {}) {
  return text_fails_with(text(v), code, field, message, limits);
}

Timestamp utc(int y, unsigned mo, unsigned d, int h, int mi, int s, long us = 0) {
  return Timestamp{sys_days{std::chrono::year{y} / mo / d}} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{s} + microseconds{us};
}

TEST(SnapshotParser, AcceptsMinimalSnapshot) {
  auto r = parse(minimal());
  ASSERT_TRUE(r) << describe(r);
  const Snapshot& s = *r;
  EXPECT_EQ(s.id, "exec-1");
  EXPECT_EQ(s.app, "shopping-assistant");
  EXPECT_EQ(s.pipeline, "competitor-selection");
  EXPECT_EQ(s.status, ExecutionStatus::kCompleted);
  EXPECT_EQ(s.started_at, utc(2026, 11, 22, 10, 0, 0, 123'000));
  EXPECT_FALSE(s.environment);
  EXPECT_FALSE(s.ended_at);
  EXPECT_EQ(s.metadata, nullptr);
  EXPECT_EQ(s.result, nullptr);
  EXPECT_EQ(s.error, nullptr);
  EXPECT_TRUE(s.steps.empty());
}

TEST(SnapshotParser, AcceptsFullSnapshot) {
  auto r = parse(full());
  ASSERT_TRUE(r) << describe(r);
  const Snapshot& s = *r;
  EXPECT_EQ(s.environment, "prod");
  EXPECT_EQ(s.ended_at, utc(2026, 11, 22, 10, 0, 2, 456'000));
  ASSERT_NE(s.metadata, nullptr);
  EXPECT_EQ(s.metadata->at("productId"), "B0C1234");
  ASSERT_NE(s.result, nullptr);
  EXPECT_EQ(*s.result, (json::object{{"selected", "B0C9876"}}));
  EXPECT_EQ(s.error, nullptr);  // JSON null is absent
  ASSERT_EQ(s.steps.size(), 2u);

  const Step& filter = s.steps[0];
  EXPECT_EQ(filter.name, "filter_candidates");
  EXPECT_EQ(filter.status, StepStatus::kCompleted);
  EXPECT_EQ(filter.started_at, utc(2026, 11, 22, 10, 0, 0, 200'000));
  EXPECT_EQ(filter.ended_at, Timestamp{milliseconds{1795341600300}});
  EXPECT_EQ(*filter.input, (json::object{{"candidates", 48}}));
  EXPECT_EQ(*filter.output, (json::object{{"kept", 7}}));
  EXPECT_EQ(filter.filters->at("minRating"), 4.0);
  EXPECT_EQ(filter.selection, nullptr);
  EXPECT_EQ(filter.reasoning, "dropped 41 candidates outside the price band");
  EXPECT_EQ(filter.metadata->at("filteredCount"), 41);
  EXPECT_EQ(filter.error, nullptr);
  ASSERT_EQ(filter.evaluations.size(), 2u);
  EXPECT_EQ(filter.evaluations[0].candidate_id, "B0042");
  EXPECT_EQ(filter.evaluations[0].passed, false);
  ASSERT_NE(filter.evaluations[0].reasons, nullptr);
  EXPECT_EQ(*filter.evaluations[0].reasons, json::array{"price 49.99 > 40"});
  EXPECT_EQ(filter.evaluations[0].scores, nullptr);
  EXPECT_EQ(filter.evaluations[1].passed, true);
  EXPECT_EQ(filter.evaluations[1].scores->at("rating"), 4.6);
  EXPECT_EQ(filter.evaluations[1].metadata->at("source"), "catalog");

  const Step& rank = s.steps[1];
  EXPECT_EQ(rank.status, StepStatus::kFailed);
  EXPECT_EQ(*rank.error, "timeout");
  EXPECT_TRUE(rank.evaluations.empty());
}

TEST(SnapshotParser, ViewsStayValidWhenSnapshotMoves) {
  auto r = parse(full());
  ASSERT_TRUE(r) << describe(r);
  Snapshot moved = std::move(*r);
  Snapshot assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.app, "shopping-assistant");
  EXPECT_EQ(assigned.steps[0].evaluations[1].candidate_id, "B0077");
  EXPECT_EQ(assigned.metadata->at("useCase"), "competitor-search");
}

TEST(SnapshotParser, ReadsEveryExecutionStatus) {
  for (auto [name, status] : {std::pair{"running", ExecutionStatus::kRunning},
                              std::pair{"completed", ExecutionStatus::kCompleted},
                              std::pair{"failed", ExecutionStatus::kFailed}}) {
    json::object s = minimal();
    s["status"] = name;
    auto r = parse(s);
    ASSERT_TRUE(r) << describe(r);
    EXPECT_EQ(r->status, status);
  }
}

TEST(SnapshotParser, RejectsUnknownExecutionStatus) {
  json::object s = minimal();
  s["status"] = "done";
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "status",
                         "status: expected one of running, completed, failed; got \"done\""));
}

TEST(SnapshotParser, StepStatusDefaultsToCompleted) {
  json::object s = minimal();
  s["steps"] =
      json::array{json::object{{"name", "a"}}, json::object{{"name", "b"}, {"status", "skipped"}},
                  json::object{{"name", "c"}, {"status", nullptr}}};
  auto r = parse(s);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(r->steps[0].status, StepStatus::kCompleted);
  EXPECT_EQ(r->steps[1].status, StepStatus::kSkipped);
  EXPECT_EQ(r->steps[2].status, StepStatus::kCompleted);
}

TEST(SnapshotParser, RejectsUnknownStepStatus) {
  json::object s = minimal();
  s["steps"] =
      json::array{json::object{{"name", "a"}}, json::object{{"name", "b"}, {"status", "running"}}};
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps[1].status",
                         "steps[1].status: expected one of completed, failed, skipped; got "
                         "\"running\""));
}

TEST(SnapshotParser, RejectsMissingRequiredField) {
  for (const char* field : {"id", "app", "pipeline", "status", "started_at"}) {
    json::object s = minimal();
    s.erase(field);
    EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, field,
                           std::string(field) + ": required field is missing"));
  }
}

TEST(SnapshotParser, RejectsMissingStepName) {
  json::object s = minimal();
  s["steps"] = json::array{json::object{{"name", "a"}}, json::object{{"status", "failed"}}};
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps[1].name",
                         "steps[1].name: required field is missing"));
}

TEST(SnapshotParser, RejectsMissingEvaluationId) {
  json::object s = with_evaluations({json::object{{"id", "a"}}, json::object{{"passed", true}}});
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps[0].evaluations[1].id",
                         "steps[0].evaluations[1].id: required field is missing"));
}

TEST(SnapshotParser, RejectsWrongTypeNamingTheField) {
  json::object s = minimal();
  s["app"] = 42;
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "app", "app: expected a string, got a number"));

  s = minimal();
  s["metadata"] = json::array{1};
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "metadata",
                         "metadata: expected an object or null, got an array"));

  s = minimal();
  s["environment"] = true;
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "environment",
                         "environment: expected a string or null, got a boolean"));

  s = minimal();
  s["steps"] = json::object{};
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps",
                         "steps: expected an array or null, got an object"));

  s = minimal();
  s["steps"] = json::array{json::object{{"name", "a"}}, "b"};
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps[1]",
                         "steps[1]: expected an object, got a string"));
}

TEST(SnapshotParser, RejectsWrongStepFieldTypes) {
  struct Case {
    const char* field;
    json::value value;
    const char* message;
  };
  const Case cases[] = {
      {"filters", "x", "steps[0].filters: expected an object or null, got a string"},
      {"evaluations", json::object{},
       "steps[0].evaluations: expected an array or null, got an object"},
      {"reasoning", json::array{}, "steps[0].reasoning: expected a string or null, got an array"},
      {"metadata", 1.5, "steps[0].metadata: expected an object or null, got a number"},
      {"name", nullptr, "steps[0].name: expected a string, got null"},
      {"status", false, "steps[0].status: expected a string or null, got a boolean"},
  };
  for (const Case& c : cases) {
    json::object s = minimal();
    json::object step{{"name", "a"}};
    step[c.field] = c.value;
    s["steps"] = json::array{step};
    EXPECT_TRUE(
        fails_with(s, Errc::kInvalidSnapshot, std::string("steps[0].") + c.field, c.message));
  }
}

TEST(SnapshotParser, RejectsWrongEvaluationFieldTypes) {
  EXPECT_TRUE(
      fails_with(with_evaluations({json::object{{"id", "a"}, {"passed", "yes"}}}),
                 Errc::kInvalidSnapshot, "steps[0].evaluations[0].passed",
                 "steps[0].evaluations[0].passed: expected a boolean or null, got a string"));
  EXPECT_TRUE(
      fails_with(with_evaluations({json::object{{"id", "a"}, {"reasons", "too expensive"}}}),
                 Errc::kInvalidSnapshot, "steps[0].evaluations[0].reasons",
                 "steps[0].evaluations[0].reasons: expected an array of strings or null, "
                 "got a string"));
  EXPECT_TRUE(
      fails_with(with_evaluations({json::object{{"id", "a"}, {"reasons", json::array{"ok", 3}}}}),
                 Errc::kInvalidSnapshot, "steps[0].evaluations[0].reasons[1]",
                 "steps[0].evaluations[0].reasons[1]: expected a string, got a number"));
  EXPECT_TRUE(
      fails_with(with_evaluations({json::object{{"id", "a"}, {"scores", json::array{}}}}),
                 Errc::kInvalidSnapshot, "steps[0].evaluations[0].scores",
                 "steps[0].evaluations[0].scores: expected an object or null, got an array"));
  EXPECT_TRUE(
      fails_with(with_evaluations({json::object{{"id", 1.5}}}), Errc::kInvalidSnapshot,
                 "steps[0].evaluations[0].id",
                 "steps[0].evaluations[0].id: expected a string or an integer, got a number"));
  EXPECT_TRUE(fails_with(with_evaluations({"B0042"}), Errc::kInvalidSnapshot,
                         "steps[0].evaluations[0]",
                         "steps[0].evaluations[0]: expected an object, got a string"));
}

TEST(SnapshotParser, ReportsTheIndicesOfADeepError) {
  json::object s = minimal();
  json::array steps;
  for (int i = 0; i < 3; ++i) {
    steps.push_back(json::object{
        {"name", "s"},
        {"evaluations",
         json::array{json::object{{"id", "a"},
                                  {"passed", i == 2 ? json::value("no") : json::value(true)}}}}});
  }
  s["steps"] = std::move(steps);
  EXPECT_TRUE(
      fails_with(s, Errc::kInvalidSnapshot, "steps[2].evaluations[0].passed",
                 "steps[2].evaluations[0].passed: expected a boolean or null, got a string"));
}

TEST(SnapshotParser, TurnsIntegerEvaluationIdsIntoDecimalText) {
  auto r = parse(with_evaluations({json::object{{"id", 42}}, json::object{{"id", -7}},
                                   json::object{{"id", 18446744073709551615ull}},
                                   json::object{{"id", "0042"}}}));
  ASSERT_TRUE(r) << describe(r);
  const auto& e = r->steps[0].evaluations;
  EXPECT_EQ(e[0].candidate_id, "42");
  EXPECT_EQ(e[1].candidate_id, "-7");
  EXPECT_EQ(e[2].candidate_id, "18446744073709551615");
  EXPECT_EQ(e[3].candidate_id, "0042");
  EXPECT_FALSE(e[0].passed);
}

TEST(SnapshotParser, RejectsUnknownFieldNamingItsPath) {
  json::object s = minimal();
  s["executionId"] = "x";
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "executionId", "executionId: unknown field"));

  s = minimal();
  s["steps"] =
      json::array{json::object{{"name", "a"}}, json::object{{"name", "b"}, {"candidates", 3}}};
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps[1].candidates",
                         "steps[1].candidates: unknown field"));

  EXPECT_TRUE(fails_with(
      with_evaluations({json::object{{"id", "a"}}, json::object{{"id", "b"}, {"score", 1}}}),
      Errc::kInvalidSnapshot, "steps[0].evaluations[1].score",
      "steps[0].evaluations[1].score: unknown field"));

  s = minimal();
  s["odd key"] = 1;
  EXPECT_TRUE(
      fails_with(s, Errc::kInvalidSnapshot, "[\"odd key\"]", "[\"odd key\"]: unknown field"));
}

TEST(SnapshotParser, RejectsEmptyOrOverlongIdentifiers) {
  for (const char* field : {"id", "app", "pipeline"}) {
    json::object s = minimal();
    s[field] = "";
    EXPECT_TRUE(
        fails_with(s, Errc::kInvalidSnapshot, field, std::string(field) + ": must not be empty"));
    s[field] = std::string(201, 'x');
    EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, field,
                           std::string(field) + ": 201 bytes exceed the maximum of 200"));
    s[field] = std::string(200, 'x');
    EXPECT_TRUE(parse(s)) << field;
  }
  EXPECT_TRUE(fails_with(with_evaluations({json::object{{"id", ""}}}), Errc::kInvalidSnapshot,
                         "steps[0].evaluations[0].id",
                         "steps[0].evaluations[0].id: must not be empty"));
}

TEST(SnapshotParser, TreatsNullAsAbsentForOptionalFields) {
  json::object s = minimal();
  for (const char* field : {"environment", "ended_at", "metadata", "result", "error", "steps"}) {
    s[field] = nullptr;
  }
  s["steps"] = json::array{json::object{{"name", "a"},
                                        {"started_at", nullptr},
                                        {"input", nullptr},
                                        {"filters", nullptr},
                                        {"evaluations", nullptr},
                                        {"reasoning", nullptr},
                                        {"metadata", nullptr}}};
  auto r = parse(s);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_FALSE(r->environment);
  EXPECT_EQ(r->result, nullptr);
  EXPECT_EQ(r->steps[0].input, nullptr);
  EXPECT_FALSE(r->steps[0].reasoning);
  EXPECT_TRUE(r->steps[0].evaluations.empty());

  auto e = parse(with_evaluations(
      {json::object{{"id", "a"}, {"passed", nullptr}, {"reasons", nullptr}, {"scores", nullptr}}}));
  ASSERT_TRUE(e) << describe(e);
  EXPECT_FALSE(e->steps[0].evaluations[0].passed);
  EXPECT_EQ(e->steps[0].evaluations[0].reasons, nullptr);
}

TEST(SnapshotParser, KeepsTheLastOfDuplicateKeys) {
  auto r =
      parse_snapshot(R"({"id":"a","app":"b","pipeline":"c","status":"running","status":"failed",)"
                     R"("started_at":0})",
                     {});
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(r->status, ExecutionStatus::kFailed);
}

// --- timestamps

TEST(SnapshotParser, ReadsEpochMilliseconds) {
  json::object s = minimal();
  s["started_at"] = 1795341600123;
  s["ended_at"] = -1;
  auto r = parse(s);
  ASSERT_TRUE(r) << describe(r);
  EXPECT_EQ(r->started_at, utc(2026, 11, 22, 10, 0, 0, 123'000));
  EXPECT_EQ(r->ended_at, utc(1969, 12, 31, 23, 59, 59, 999'000));
}

TEST(SnapshotParser, NormalisesRfc3339ToUtcMicroseconds) {
  struct Case {
    const char* text;
    Timestamp expected;
  };
  const Case cases[] = {
      {"2026-11-22T10:00:00Z", utc(2026, 11, 22, 10, 0, 0)},
      {"2026-11-22t10:00:00.5z", utc(2026, 11, 22, 10, 0, 0, 500'000)},
      {"2026-11-22T11:30:00.25+01:30", utc(2026, 11, 22, 10, 0, 0, 250'000)},
      {"2026-11-21T23:00:00-11:00", utc(2026, 11, 22, 10, 0, 0)},
      {"2026-11-22T10:00:00.123456789Z", utc(2026, 11, 22, 10, 0, 0, 123'456)},  // truncated
      {"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0)},
      {"2016-12-31T23:59:60Z", utc(2017, 1, 1, 0, 0, 0)},  // leap second
      {"0001-01-01T00:00:00Z", utc(1, 1, 1, 0, 0, 0)},
      {"9999-12-31T23:59:59.999999Z", utc(9999, 12, 31, 23, 59, 59, 999'999)},
  };
  for (const Case& c : cases) {
    json::object s = minimal();
    s["started_at"] = c.text;
    auto r = parse(s);
    ASSERT_TRUE(r) << c.text << ": " << describe(r);
    EXPECT_EQ(r->started_at, c.expected) << c.text;
  }
}

TEST(SnapshotParser, RejectsImpossibleDates) {
  for (const char* text : {"2026-02-30T10:00:00Z", "2025-02-29T10:00:00Z", "2026-04-31T00:00:00Z",
                           "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
                           "2026-01-01T24:00:00Z", "2026-01-01T10:60:00Z", "2026-01-01T10:00:61Z",
                           "2026-01-01T10:00:00+24:00"}) {
    json::object s = minimal();
    s["started_at"] = text;
    EXPECT_TRUE(
        fails_with(s, Errc::kInvalidSnapshot, "started_at",
                   "started_at: \"" + std::string(text) + "\" is not a valid date and time"));
  }
}

TEST(SnapshotParser, RejectsMalformedTimestamps) {
  const std::string expected =
      "expected an RFC 3339 timestamp (2026-11-22T10:00:00.123Z) or integer epoch milliseconds, ";
  for (const char* text : {"2026-11-22", "2026-11-22T10:00:00", "2026-11-22 10:00:00Z",
                           "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00Zjunk",
                           "26-11-22T10:00:00Z", "2026-11-22T10:00:00+0100", "yesterday", ""}) {
    json::object s = minimal();
    s["steps"] = json::array{json::object{{"name", "a"}, {"ended_at", text}}};
    EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "steps[0].ended_at",
                           "steps[0].ended_at: " + expected + "got \"" + text + "\""));
  }
  json::object s = minimal();
  s["started_at"] = 1.7e12;
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "started_at",
                         "started_at: " + expected + "got a number"));
  s["started_at"] = nullptr;
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "started_at",
                         "started_at: expected a timestamp, got null"));
}

TEST(SnapshotParser, RejectsTimestampsOutsideYearsOneToNineThousandNineHundredNinetyNine) {
  json::object s = minimal();
  s["started_at"] = "0001-01-01T00:00:00+00:01";
  EXPECT_TRUE(
      fails_with(s, Errc::kInvalidSnapshot, "started_at",
                 "started_at: \"0001-01-01T00:00:00+00:01\" is outside years 0001..9999 UTC"));
  s["started_at"] = 253402300800000;  // 10000-01-01
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "started_at",
                         "started_at: epoch milliseconds outside years 0001..9999"));
  s["started_at"] = 18446744073709551615ull;
  EXPECT_TRUE(fails_with(s, Errc::kInvalidSnapshot, "started_at",
                         "started_at: epoch milliseconds outside years 0001..9999"));
  s["started_at"] = 253402300799999;  // the last millisecond of 9999
  EXPECT_TRUE(parse(s));
}

// --- limits

TEST(SnapshotParser, RejectsMoreStepsThanMaxSteps) {
  SnapshotLimits limits;
  limits.max_steps = 2;
  json::object s = minimal();
  s["steps"] = json::array{json::object{{"name", "a"}}, json::object{{"name", "b"}}};
  EXPECT_TRUE(parse(s, limits));
  s["steps"].as_array().push_back(json::object{{"name", "c"}});
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_steps",
                         "steps: 3 steps exceed max_steps (2)", limits));
}

TEST(SnapshotParser, RejectsMoreEvaluationsThanMaxEvaluations) {
  SnapshotLimits limits;
  limits.max_evaluations = 2;
  json::object s = minimal();
  json::array three{json::object{{"id", "a"}}, json::object{{"id", "b"}},
                    json::object{{"id", "c"}}};
  s["steps"] =
      json::array{json::object{{"name", "a"}, {"evaluations", json::array{three[0], three[1]}}},
                  json::object{{"name", "b"}, {"evaluations", three}}};
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_evaluations",
                         "steps[1].evaluations: 3 evaluations exceed max_evaluations (2)", limits));
}

TEST(SnapshotParser, RejectsNestingDeeperThanMaxJsonDepth) {
  SnapshotLimits limits;
  limits.max_json_depth = 4;
  json::object s = minimal();
  s["result"] = json::array{json::array{json::array{1}}};  // depth 4 with the root
  EXPECT_TRUE(parse(s, limits));
  s["result"] = json::array{json::array{json::array{json::array{}}}};
  auto r = parse(s, limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kLimitExceeded);
  EXPECT_EQ(r.error().field, "max_json_depth");
  EXPECT_THAT(r.error().message,
              testing::StartsWith("JSON nesting exceeds max_json_depth (4) at line 1"));
}

TEST(SnapshotParser, RejectsStringsLongerThanMaxStringBytes) {
  SnapshotLimits limits;
  limits.max_string_bytes = 24;  // minimal()'s longest string is its 24-byte started_at
  const std::string at_limit(24, 'x');
  const std::string over(25, 'x');
  json::object s = minimal();
  s["steps"] = json::array{
      json::object{{"name", "a"}, {"input", {{"docs", json::array{"short", at_limit}}}}}};
  EXPECT_TRUE(parse(s, limits));

  s["steps"] =
      json::array{json::object{{"name", "a"}, {"input", {{"docs", json::array{"short", over}}}}}};
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_string_bytes",
                         "steps[0].input.docs[1]: string of 25 bytes exceeds max_string_bytes (24)",
                         limits));

  s = minimal();
  s["metadata"] = {{over, 1}};
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_string_bytes",
                         "metadata." + over + ": key of 25 bytes exceeds max_string_bytes (24)",
                         limits));

  s = with_evaluations({json::object{{"id", "a"}, {"reasons", json::array{over}}}});
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_string_bytes",
                         "steps[0].evaluations[0].reasons[0]: string of 25 bytes exceeds "
                         "max_string_bytes (24)",
                         limits));

  s = minimal();
  s["steps"] = json::array{json::object{{"name", "a"}, {"reasoning", over}}};
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_string_bytes",
                         "steps[0].reasoning: string of 25 bytes exceeds max_string_bytes (24)",
                         limits));

  s = minimal();
  s["environment"] = over;
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_string_bytes",
                         "environment: string of 25 bytes exceeds max_string_bytes (24)", limits));

  s = minimal();
  s["app"] = over;
  EXPECT_TRUE(fails_with(s, Errc::kLimitExceeded, "max_string_bytes",
                         "app: string of 25 bytes exceeds max_string_bytes (24)", limits));
}

// --- what PostgreSQL cannot store

TEST(SnapshotParser, RejectsNulAnywhereNamingTheField) {
  struct Case {
    const char* json_fragment;  // replaces "steps"
    const char* field;
    const char* message;
  };
  const Case cases[] = {
      {R"([{"name":"a","input":{"q":["x","a\u0000b"]}}])", "steps[0].input.q[1]",
       "contains U+0000, which PostgreSQL cannot store"},
      {R"([{"name":"a","output":{"deep":{"k\u0000":1}}}])", "steps[0].output.deep[\"k\\u0000\"]",
       "key contains U+0000, which PostgreSQL cannot store"},
      {R"([{"name":"a\u0000"}])", "steps[0].name",
       "contains U+0000, which PostgreSQL cannot store"},
      {R"([{"name":"a","reasoning":"\u0000"}])", "steps[0].reasoning",
       "contains U+0000, which PostgreSQL cannot store"},
      {R"([{"name":"a","evaluations":[{"id":"x","reasons":["ok","\u0000"]}]}])",
       "steps[0].evaluations[0].reasons[1]", "contains U+0000, which PostgreSQL cannot store"},
      {R"([{"name":"a","evaluations":[{"id":"x\u0000"}]}])", "steps[0].evaluations[0].id",
       "contains U+0000, which PostgreSQL cannot store"},
      {R"([{"name":"a","evaluations":[{"id":"x","scores":{"\u0000":1}}]}])",
       "steps[0].evaluations[0].scores[\"\\u0000\"]",
       "key contains U+0000, which PostgreSQL cannot store"},
  };
  for (const Case& c : cases) {
    std::string input = R"({"id":"a","app":"b","pipeline":"c","status":"completed",)"
                        R"("started_at":0,"steps":)" +
                        std::string(c.json_fragment) + "}";
    EXPECT_TRUE(text_fails_with(input, Errc::kInvalidSnapshot, c.field,
                                std::string(c.field) + ": " + c.message));
  }
  EXPECT_TRUE(text_fails_with(
      R"({"id":"a","app":"b","pipeline":"c","status":"completed","started_at":0,"metadata":{"x":"\u0000"}})",
      Errc::kInvalidSnapshot, "metadata.x",
      "metadata.x: contains U+0000, which PostgreSQL cannot store"));
}

TEST(SnapshotParser, RejectsNumbersOutOfRange) {
  EXPECT_TRUE(text_fails_with(
      R"({"id":"a","app":"b","pipeline":"c","status":"completed","started_at":0,"result":{"x":[1,-1e400]}})",
      Errc::kInvalidSnapshot, "result.x[1]", "result.x[1]: number out of range"));
}

TEST(SnapshotParser, RejectsInvalidUtf8AsInvalidJson) {
  for (std::string bad : {std::string("\xff"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                          std::string("\\ud800"), std::string("a\xe2\x82")}) {
    std::string input = "{\"id\":\"a\",\"app\":\"" + bad + "\"}";
    auto r = parse_snapshot(input, {});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Errc::kInvalidJson);
    EXPECT_EQ(r.error().field, "");
    EXPECT_THAT(r.error().message, testing::StartsWith("invalid JSON at line 1, column "));
  }
}

TEST(SnapshotParser, RejectsNonJsonWithPosition) {
  auto r = parse_snapshot("{\"id\": \"a\",\n  \"app\": oops}", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kInvalidJson);
  EXPECT_EQ(r.error().field, "");
  EXPECT_EQ(r.error().message, "invalid JSON at line 2, column 10 (byte 21): syntax error");

  for (std::string_view input :
       {std::string_view(""), std::string_view("{"), std::string_view("{\"id\":\"a\"} {}"),
        std::string_view("{\"id\":\"a\",}"), std::string_view("\0{}", 3)}) {
    auto e = parse_snapshot(input, {});
    ASSERT_FALSE(e) << input;
    EXPECT_EQ(e.error().code, Errc::kInvalidJson) << input;
    EXPECT_THAT(e.error().message, testing::StartsWith("invalid JSON at line 1")) << input;
  }
}

TEST(SnapshotParser, RejectsTopLevelThatIsNotAnObject) {
  EXPECT_TRUE(text_fails_with("[]", Errc::kInvalidSnapshot, "",
                              "expected a JSON object at the top level, got an array"));
  EXPECT_TRUE(text_fails_with("\"x\"", Errc::kInvalidSnapshot, "",
                              "expected a JSON object at the top level, got a string"));
}

TEST(SnapshotParser, QuotesLongValuesShortInMessages) {
  json::object s = minimal();
  s["status"] = std::string(100, 'x');
  auto r = parse(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "status: expected one of running, completed, failed; got \"" +
                                   std::string(64, 'x') + "...\"");
}

}  // namespace
}  // namespace xrayd
