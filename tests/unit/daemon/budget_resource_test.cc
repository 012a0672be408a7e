#include "daemon/budget_resource.h"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "daemon/snapshot_parser.h"

namespace xrayd {
namespace {

namespace json = boost::json;

// A snapshot with `n` evaluations: its parsed document is several times its text.
std::string snapshot_with_evaluations(int n) {
  json::array evaluations;
  for (int i = 0; i < n; ++i) {
    evaluations.push_back(json::object{{"id", "B" + std::to_string(i)},
                                       {"passed", i % 2 == 0},
                                       {"reasons", json::array{"price > 40"}},
                                       {"scores", json::object{{"rating", 4.5}}}});
  }
  json::object s{{"id", "exec-1"},
                 {"app", "shop"},
                 {"pipeline", "p"},
                 {"status", "completed"},
                 {"started_at", "2026-11-22T10:00:00Z"},
                 {"steps", json::array{json::object{{"name", "filter"},
                                                    {"evaluations", std::move(evaluations)}}}}};
  return json::serialize(s);
}

TEST(BudgetResource, TakesEveryBlockFromTheBudgetAndGivesItBack) {
  Budget budget(1 << 20);
  {
    BudgetResource resource(budget);
    void* a = resource.allocate(1000);
    void* b = resource.allocate(50'000);
    // Invariant 2: at least what was asked, as the allocator rounds it up.
    EXPECT_GE(budget.held_bytes(), 51'000u);
    EXPECT_EQ(budget.held_bytes(), resource.held_bytes());
    resource.deallocate(a, 1000);
    EXPECT_GE(budget.held_bytes(), 50'000u);
    EXPECT_LT(budget.held_bytes(), 51'000u);
    resource.deallocate(b, 50'000);
    EXPECT_EQ(budget.held_bytes(), 0u);
    ASSERT_TRUE(resource.charge(300));
    EXPECT_EQ(budget.held_bytes(), 300u);
  }
  EXPECT_EQ(budget.held_bytes(), 0u);
}

TEST(BudgetResource, ThrowsBudgetExhaustedWhenOverLimit) {
  Budget budget(4096);
  BudgetResource resource(budget);
  EXPECT_THROW((void)resource.allocate(8192), BudgetExhausted);
  EXPECT_EQ(budget.held_bytes(), 0u);
  EXPECT_FALSE(resource.charge(5000));
  EXPECT_EQ(budget.held_bytes(), 0u);
}

TEST(BudgetResource, AccountsAParsedDocumentUntilItIsGone) {
  const std::string text = snapshot_with_evaluations(2000);
  Budget budget(64 << 20);
  {
    BudgetResource resource(budget);
    auto parsed = parse_snapshot(text, {}, json::storage_ptr(&resource));
    ASSERT_TRUE(parsed) << parsed.error().message;
    // The document is several times its text, and all of it is accounted.
    EXPECT_GT(budget.held_bytes(), 2 * text.size());
    EXPECT_LT(budget.held_bytes(), 16 * text.size());
  }
  EXPECT_EQ(budget.held_bytes(), 0u);
}

TEST(SnapshotParser, AnswersBusyWhenTheDocumentDoesNotFitTheBudget) {
  const std::string text = snapshot_with_evaluations(2000);
  Budget budget(text.size() * 2);
  BudgetResource resource(budget);
  auto parsed = parse_snapshot(text, {}, json::storage_ptr(&resource));
  ASSERT_FALSE(parsed);
  // Invariant 3: refused for now (busy), not invalid.
  EXPECT_EQ(parsed.error().code, xray::Errc::kBusy);
  EXPECT_EQ(parsed.error().field, "memory_limit");
  EXPECT_EQ(budget.held_bytes(), 0u);
}

}  // namespace
}  // namespace xrayd
