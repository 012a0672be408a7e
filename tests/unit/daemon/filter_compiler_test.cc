#include "daemon/filter_compiler.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace xrayd {
namespace {

namespace json = boost::json;

// Compiles `where` (JSON text) for `target`; the fixture keeps the parameters.
class FilterCompiler : public ::testing::Test {
 protected:
  boost::system::result<std::string, xray::InputError> compile(
      const std::string& where, QueryTarget target = QueryTarget::kExecutions) {
    params_ = SqlParams();
    return compile_filter(target, json::parse(where), params_);
  }

  // The error's field for `where`, or "" when it compiles.
  std::string error_field(const std::string& where, QueryTarget target = QueryTarget::kExecutions) {
    auto compiled = compile(where, target);
    if (compiled) return "";
    EXPECT_EQ(compiled.error().code, xray::Errc::kBadQuery);
    // Every message starts with the path it names.
    EXPECT_EQ(compiled.error().message.rfind(compiled.error().field, 0), 0u)
        << compiled.error().message;
    return compiled.error().field;
  }

  const std::vector<std::string>& params() const { return params_.values(); }

  SqlParams params_;
};

TEST_F(FilterCompiler, NullMatchesEverything) {
  auto sql = compile("null");
  ASSERT_TRUE(sql);
  EXPECT_EQ(*sql, "TRUE");
  EXPECT_TRUE(params().empty());
}

TEST_F(FilterCompiler, ValuesOnlyEverReachSqlAsParameters) {
  const std::string evil = "'; DROP TABLE executions; --";
  auto sql =
      compile(R"({"or": [{"path": "app", "op": "eq", "value": "'; DROP TABLE executions; --"},
                              {"path": "metadata.k", "op": "contains", "value": "'; DROP TABLE executions; --"},
                              {"path": "pipeline", "op": "in", "value": ["'; DROP TABLE executions; --"]}]})");
  ASSERT_TRUE(sql) << sql.error().message;
  EXPECT_EQ(sql->find("DROP"), std::string::npos) << *sql;
  EXPECT_EQ(sql->find('\''), sql->find("'string'")) << "only our own literals are quoted: " << *sql;
  int seen = 0;
  for (const auto& p : params()) seen += p == evil ? 1 : 0;
  EXPECT_EQ(seen, 3);
}

TEST_F(FilterCompiler, JsonPathKeysAreBoundToo) {
  auto sql = compile(R"({"path": "metadata.a.b_c-1", "op": "exists", "value": true})");
  ASSERT_TRUE(sql) << sql.error().message;
  EXPECT_EQ(sql->find("b_c-1"), std::string::npos) << *sql;
  ASSERT_EQ(params().size(), 1u);
  EXPECT_EQ(params()[0], R"({"a","b_c-1"})");
  EXPECT_NE(sql->find("e.metadata #> $1::text[]"), std::string::npos) << *sql;
}

TEST_F(FilterCompiler, EachOperatorCompilesOnItsTypes) {
  struct Case {
    QueryTarget target;
    std::string where;
  };
  const std::vector<Case> ok = {
      {QueryTarget::kExecutions, R"({"path": "status", "op": "ne", "value": "failed"})"},
      {QueryTarget::kExecutions,
       R"({"path": "started_at", "op": "gte", "value": "2026-11-22T10:00:00Z"})"},
      {QueryTarget::kExecutions, R"({"path": "started_at", "op": "lt", "value": 1795341600000})"},
      {QueryTarget::kExecutions, R"({"path": "duration_ms", "op": "lte", "value": 2.5})"},
      {QueryTarget::kExecutions, R"({"path": "step_count", "op": "in", "value": [1, 3]})"},
      {QueryTarget::kExecutions, R"({"path": "environment", "op": "contains", "value": "pro"})"},
      {QueryTarget::kExecutions, R"({"path": "metadata", "op": "contains", "value": {"a": 1}})"},
      {QueryTarget::kExecutions, R"({"path": "metadata.n", "op": "gt", "value": 4})"},
      {QueryTarget::kExecutions, R"({"path": "metadata.s", "op": "lt", "value": "m"})"},
      {QueryTarget::kExecutions, R"({"path": "metadata.s", "op": "in", "value": ["a", 1, null]})"},
      {QueryTarget::kSteps, R"({"path": "eliminated_ratio", "op": "gt", "value": 0.9})"},
      {QueryTarget::kSteps, R"({"path": "execution.status", "op": "eq", "value": "failed"})"},
      {QueryTarget::kSteps, R"({"path": "filters.price.max", "op": "eq", "value": 40})"},
      {QueryTarget::kEvaluations, R"({"path": "passed", "op": "eq", "value": false})"},
      {QueryTarget::kEvaluations, R"({"path": "reasons", "op": "contains", "value": "price"})"},
      {QueryTarget::kEvaluations, R"({"path": "reasons", "op": "eq", "value": ["a", "b"]})"},
      {QueryTarget::kEvaluations, R"({"path": "reasons", "op": "exists", "value": false})"},
      {QueryTarget::kEvaluations, R"({"path": "step.name", "op": "in", "value": []})"},
      {QueryTarget::kEvaluations, R"({"path": "scores.rating", "op": "gte", "value": 4.5})"},
  };
  for (const auto& c : ok) {
    auto sql = compile(c.where, c.target);
    EXPECT_TRUE(sql) << c.where << ": " << (sql ? "" : sql.error().message);
  }
}

TEST_F(FilterCompiler, CombinesWithAndOrNot) {
  auto sql = compile(R"({"and": [{"path": "app", "op": "eq", "value": "a"},
                                {"not": {"or": [{"path": "status", "op": "eq", "value": "failed"},
                                                {"path": "step_count", "op": "gt", "value": 3}]}}]})");
  ASSERT_TRUE(sql) << sql.error().message;
  EXPECT_EQ(
      *sql,
      "((e.app = $1::text) AND (NOT ((e.status = $2::text) OR (e.step_count > $3::bigint))))");
  EXPECT_EQ(params(), (std::vector<std::string>{"a", "failed", "3"}));
}

TEST_F(FilterCompiler, NullableColumnsNeverYieldNull) {
  auto eq = compile(R"({"path": "environment", "op": "eq", "value": "prod"})");
  ASSERT_TRUE(eq);
  EXPECT_EQ(*eq, "(e.environment IS NOT NULL AND e.environment = $1::text)");
  auto ne = compile(R"({"path": "environment", "op": "ne", "value": "prod"})");
  ASSERT_TRUE(ne);
  EXPECT_EQ(*ne, "(e.environment IS NULL OR e.environment <> $1::text)");
}

TEST_F(FilterCompiler, TimestampsBindAsMicroseconds) {
  auto sql =
      compile(R"({"path": "started_at", "op": "gt", "value": "2026-11-22T10:00:00.123456Z"})");
  ASSERT_TRUE(sql);
  ASSERT_EQ(params().size(), 1u);
  EXPECT_EQ(params()[0], "1795341600123456");
  auto ms = compile(R"({"path": "started_at", "op": "gt", "value": 1795341600123})");
  ASSERT_TRUE(ms);
  EXPECT_EQ(params()[0], "1795341600123000");
}

TEST_F(FilterCompiler, ErrorsNameTheJsonPathOfTheOffendingElement) {
  EXPECT_EQ(error_field(R"({"and": [{"path": "app", "op": "eq", "value": "a"},
                                    {"path": "app", "op": "eq; DROP", "value": "a"}]})"),
            "where.and[1].op");
  EXPECT_EQ(error_field(R"({"or": [{"not": {"path": "metadata.a'--", "op": "eq", "value": 1}}]})"),
            "where.or[0].not.path");
  EXPECT_EQ(error_field(R"({"path": "nope", "op": "eq", "value": 1})"), "where.path");
  EXPECT_EQ(error_field(R"({"path": "app; DROP TABLE x", "op": "eq", "value": 1})"), "where.path");
  EXPECT_EQ(error_field(R"({"path": "metadata.", "op": "eq", "value": 1})"), "where.path");
  EXPECT_EQ(error_field(R"({"path": "metadata.a.b.c.d.e.f.g.h.i", "op": "eq", "value": 1})"),
            "where.path");
  EXPECT_EQ(error_field(R"({"path": "app", "op": "eq", "value": 1})"), "where.value");
  EXPECT_EQ(error_field(R"({"path": "app", "op": "eq"})"), "where.value");
  EXPECT_EQ(error_field(R"({"path": "app", "op": "gt", "value": "a", "x": 1})"), "where.x");
  EXPECT_EQ(error_field(R"({"path": "step_count", "op": "in", "value": [1, "2"]})"),
            "where.value[1]");
  EXPECT_EQ(error_field(R"({"path": "started_at", "op": "gt", "value": "yesterday"})"),
            "where.value");
  EXPECT_EQ(error_field(R"({"path": "step_count", "op": "contains", "value": "1"})"), "where.op");
  EXPECT_EQ(error_field(R"({"path": "app", "op": "exists", "value": true})"), "where.op");
  EXPECT_EQ(error_field(R"({"path": "metadata.k", "op": "exists", "value": "yes"})"),
            "where.value");
  EXPECT_EQ(error_field(R"({"path": "metadata.k", "op": "gt", "value": [1]})"), "where.value");
  EXPECT_EQ(error_field(R"({"and": []})"), "where.and");
  EXPECT_EQ(error_field(R"({"and": [], "path": "app"})"), "where.path");
  EXPECT_EQ(error_field(R"([1])"), "where");
  EXPECT_EQ(error_field(R"({"path": "app", "op": "eq", "value": "a\u0000b"})"), "where.value");
  // A path of another target.
  EXPECT_EQ(
      error_field(R"({"path": "candidate_id", "op": "eq", "value": "x"})", QueryTarget::kSteps),
      "where.path");
  EXPECT_EQ(
      error_field(R"({"path": "passed", "op": "gt", "value": true})", QueryTarget::kEvaluations),
      "where.op");
}

TEST_F(FilterCompiler, BoundsDepthLeavesAndInArrays) {
  std::string deep = R"({"path": "app", "op": "eq", "value": "a"})";
  for (std::size_t i = 0; i < kMaxFilterDepth; ++i) deep = R"({"not": )" + deep + "}";
  EXPECT_NE(error_field(deep), "");
  std::string wide = R"({"or": [)";
  for (std::size_t i = 0; i <= kMaxFilterLeaves; ++i) {
    wide += std::string(i ? "," : "") + R"({"path": "app", "op": "eq", "value": "a"})";
  }
  EXPECT_EQ(error_field(wide + "]}").rfind("where.or[", 0), 0u);
  std::string many = R"({"path": "app", "op": "in", "value": [)";
  for (std::size_t i = 0; i <= kMaxInValues; ++i) many += std::string(i ? "," : "") + "\"a\"";
  EXPECT_EQ(error_field(many + "]}"), "where.value");
}

TEST_F(FilterCompiler, TargetsAreNamed) {
  EXPECT_EQ(query_target_named("steps"), QueryTarget::kSteps);
  EXPECT_EQ(query_target_named("evaluations"), QueryTarget::kEvaluations);
  EXPECT_EQ(query_target_named("executions"), QueryTarget::kExecutions);
  EXPECT_FALSE(query_target_named("executions; --"));
}

}  // namespace
}  // namespace xrayd
