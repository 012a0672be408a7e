#include "daemon/budget.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace xrayd {
namespace {

TEST(Budget, RefusesWhenOverLimit) {
  // Invariant 2: held bytes never pass the limit.
  Budget budget(100);
  auto a = budget.try_acquire(60);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(budget.try_acquire(41).has_value());
  auto b = budget.try_acquire(40);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(budget.held_bytes(), 100u);
}

TEST(Budget, ReleasesWhenLeaseDestroyed) {
  Budget budget(100);
  {
    auto a = budget.try_acquire(70);
    ASSERT_TRUE(a);
    EXPECT_EQ(budget.held_bytes(), 70u);
  }
  EXPECT_EQ(budget.held_bytes(), 0u);
  EXPECT_EQ(budget.peak_bytes(), 70u);
}

TEST(Budget, ShrinkSplitAndGrowKeepTheTotal) {
  Budget budget(100);
  auto a = budget.try_acquire(80);
  ASSERT_TRUE(a);
  Lease part = a->split(30);
  EXPECT_EQ(a->bytes(), 50u);
  EXPECT_EQ(part.bytes(), 30u);
  a->shrink_to(10);
  EXPECT_EQ(budget.held_bytes(), 40u);
  EXPECT_TRUE(budget.try_grow(part, 60));
  EXPECT_FALSE(budget.try_grow(part, 1));
  EXPECT_EQ(budget.held_bytes(), 100u);
  part.reset();
  EXPECT_EQ(budget.held_bytes(), 10u);
}

TEST(Budget, BelowLowWatermarkAtHalfTheLimit) {
  Budget budget(100);
  auto a = budget.try_acquire(50);
  EXPECT_FALSE(budget.below_low_watermark());
  a->shrink_to(49);
  EXPECT_TRUE(budget.below_low_watermark());
}

TEST(Budget, ConcurrentAcquiresNeverPassTheLimit) {
  // Invariant 2 under contention: 4 threads race for 1-byte leases.
  Budget budget(1000);
  std::vector<std::thread> threads;
  std::atomic<int> granted{0};
  std::vector<std::vector<Lease>> held(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (auto l = budget.try_acquire(1)) {
          held[t].push_back(std::move(*l));
          granted.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), 1000);
  EXPECT_EQ(budget.held_bytes(), 1000u);
}

}  // namespace
}  // namespace xrayd
