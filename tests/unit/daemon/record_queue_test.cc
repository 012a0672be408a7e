#include "daemon/record_queue.h"

#include <thread>

#include <gtest/gtest.h>

namespace xrayd {
namespace {

std::unique_ptr<Record> record(const std::string& id) {
  auto r = std::make_unique<Record>();
  r->id = id;
  return r;
}

TEST(RecordQueue, DepthIsExact) {
  RecordQueue queue(64);
  for (int i = 0; i < 10; ++i) {
    auto r = record(std::to_string(i));
    ASSERT_TRUE(queue.push(r));
    EXPECT_EQ(r, nullptr);
  }
  EXPECT_EQ(queue.depth(), 10u);
  std::vector<std::unique_ptr<Record>> out;
  EXPECT_EQ(queue.pop_bulk(out, 4, std::chrono::milliseconds(10)), 4u);
  EXPECT_EQ(queue.depth(), 6u);
  EXPECT_EQ(out[0]->id, "0");
}

TEST(RecordQueue, RefusesBeyondCapacityAndHandsTheRecordBack) {
  RecordQueue queue(8);
  std::size_t pushed = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = record(std::to_string(i));
    if (queue.push(r)) {
      ++pushed;
    } else {
      ASSERT_NE(r, nullptr);  // handed back for the caller to refuse
      EXPECT_EQ(r->id, std::to_string(i));
    }
  }
  EXPECT_GE(pushed, 8u);
  EXPECT_LT(pushed, 100u);
}

TEST(RecordQueue, PopWaitsUpToTheTimeoutThenReturnsNothing) {
  RecordQueue queue(8);
  std::vector<std::unique_ptr<Record>> out;
  EXPECT_EQ(queue.pop_bulk(out, 4, std::chrono::milliseconds(20)), 0u);
  EXPECT_TRUE(out.empty());
}

TEST(RecordQueue, ManyProducersOneConsumerLoseNothing) {
  RecordQueue queue(1 << 16);
  constexpr int kPerThread = 5000;
  std::vector<std::thread> producers;
  for (int t = 0; t < 3; ++t) {
    producers.emplace_back([&queue, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = record(std::to_string(t) + ":" + std::to_string(i));
        while (!queue.push(r)) std::this_thread::yield();
      }
    });
  }
  std::vector<std::unique_ptr<Record>> out;
  while (out.size() < 3u * kPerThread) queue.pop_bulk(out, 256, std::chrono::milliseconds(50));
  for (auto& p : producers) p.join();
  EXPECT_EQ(out.size(), 3u * kPerThread);
  EXPECT_EQ(queue.depth(), 0u);
}

}  // namespace
}  // namespace xrayd
