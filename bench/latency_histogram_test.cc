#include "bench/latency_histogram.h"

#include <chrono>

#include <gtest/gtest.h>

namespace xray::bench {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

TEST(LatencyHistogram, IsEmptyUntilRecorded) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(99), nanoseconds{0});
  EXPECT_EQ(h.max(), nanoseconds{0});
  EXPECT_EQ(h.mean(), nanoseconds{0});
}

TEST(LatencyHistogram, PercentilesAreWithinOneSubBucket) {
  LatencyHistogram h;
  for (int i = 1; i <= 10000; ++i) h.record(microseconds{i});  // 1 µs .. 10 ms
  const auto within = [](nanoseconds got, double want_ns) {
    return got.count() >= want_ns && got.count() <= want_ns * (1 + 1.0 / 128);
  };
  EXPECT_TRUE(within(h.percentile(50), 5000e3)) << h.percentile(50).count();
  EXPECT_TRUE(within(h.percentile(99), 9900e3)) << h.percentile(99).count();
  EXPECT_TRUE(within(h.percentile(99.9), 9990e3)) << h.percentile(99.9).count();
  EXPECT_EQ(h.percentile(100), microseconds{10000});
  EXPECT_EQ(h.max(), microseconds{10000});
  EXPECT_EQ(h.min(), microseconds{1});
  EXPECT_NEAR(static_cast<double>(h.mean().count()), 5000.5e3, 1e3);
}

TEST(LatencyHistogram, MergeAddsCountsAndKeepsExtremes) {
  LatencyHistogram a, b;
  a.record(microseconds{100});
  b.record(microseconds{300});
  b.record(nanoseconds{5});
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.min(), nanoseconds{5});
  EXPECT_EQ(a.max(), microseconds{300});
  EXPECT_EQ(a.percentile(0), nanoseconds{5});
}

TEST(LatencyHistogram, KeepsHugeValues) {
  LatencyHistogram h;
  h.record(std::chrono::hours{24 * 365});
  EXPECT_EQ(h.percentile(50), std::chrono::hours{24 * 365});
}

}  // namespace
}  // namespace xray::bench
