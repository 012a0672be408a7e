#include "daemon/stream_hub.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace xrayd {
namespace {

std::shared_ptr<const std::string> event(const std::string& text) {
  return std::make_shared<const std::string>(text);
}

TEST(StreamHub, DeliversToMatchingSubscribersOnly) {
  Metrics metrics;
  StreamHub hub(metrics);
  std::atomic<int> woken{0};
  auto any = hub.subscribe({}, 10, [&] { ++woken; });
  auto shop = hub.subscribe({"shop", ""}, 10, [&] { ++woken; });
  auto shop_p = hub.subscribe({"shop", "p"}, 10, [&] { ++woken; });
  ASSERT_TRUE(any && shop && shop_p);
  EXPECT_EQ(hub.publish("shop", "p", event("1")), 3u);
  EXPECT_EQ(hub.publish("shop", "q", event("2")), 2u);
  EXPECT_EQ(hub.publish("bank", "p", event("3")), 1u);
  EXPECT_EQ(any->subscriber().take().events.size(), 3u);
  EXPECT_EQ(shop->subscriber().take().events.size(), 2u);
  auto batch = shop_p->subscriber().take();
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(*batch.events[0], "1");
  EXPECT_EQ(woken.load(), 6);
  EXPECT_EQ(metrics.stream_events.load(), 6u);
  EXPECT_EQ(metrics.stream_subscribers.load(), 3);
}

TEST(StreamHub, RefusesSubscribersBeyondTheLimit) {
  Metrics metrics;
  StreamHub hub(metrics);
  auto a = hub.subscribe({}, 2, [] {});
  auto b = hub.subscribe({}, 2, [] {});
  EXPECT_EQ(hub.subscribe({}, 2, [] {}), nullptr);
  b.reset();
  EXPECT_EQ(hub.subscribers(), 1u);
  EXPECT_NE(hub.subscribe({}, 2, [] {}), nullptr);
  EXPECT_EQ(metrics.stream_subscribers.load(), 1);
}

TEST(StreamHub, SlowSubscriberLosesEventsAndIsToldHowMany) {
  Metrics metrics;
  StreamHub hub(metrics);
  auto slow = hub.subscribe({}, 10, [] {});
  auto fast = hub.subscribe({}, 10, [] {});
  const std::size_t extra = 5;
  for (std::size_t i = 0; i < StreamSubscriber::kQueueCapacity + extra; ++i) {
    hub.publish("a", "p", event(std::to_string(i)));
    // The fast one keeps up.
    EXPECT_EQ(fast->subscriber().take().events.size(), 1u);
  }
  auto batch = slow->subscriber().take();
  EXPECT_EQ(batch.events.size(), StreamSubscriber::kQueueCapacity);
  EXPECT_EQ(batch.dropped, extra);
  EXPECT_EQ(*batch.events.front(), "0");  // the oldest are kept, the newest dropped
  EXPECT_EQ(metrics.stream_events_dropped.load(), extra);
  // Counted once: the next take starts afresh.
  EXPECT_EQ(slow->subscriber().take().dropped, 0u);
  hub.publish_gap();
  EXPECT_TRUE(slow->subscriber().take().gap);
}

TEST(StreamHub, PublishersAndSubscribersRaceSafely) {
  // For TSan: publishes from several threads while subscribers come, take and go.
  Metrics metrics;
  StreamHub hub(metrics);
  std::atomic<bool> stop{false};
  std::vector<std::thread> publishers;
  for (int t = 0; t < 3; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        hub.publish(t % 2 ? "a" : "b", "p", event(std::to_string(i)));
      }
    });
  }
  std::size_t received = 0;
  // A publisher may still wake a subscriber it saw just before it left, so
  // what the callback touches outlives them all (sessions use a weak_ptr).
  std::atomic<int> woken{0};
  for (int round = 0; round < 200; ++round) {
    auto s = hub.subscribe({round % 2 ? "a" : "", ""}, 100, [&] { ++woken; });
    ASSERT_NE(s, nullptr);
    for (int i = 0; i < 5; ++i) received += s->subscriber().take().events.size();
  }
  stop = true;
  for (auto& p : publishers) p.join();
  EXPECT_EQ(hub.subscribers(), 0u);
  EXPECT_GT(metrics.stream_events.load() + metrics.stream_events_dropped.load(), 0u);
  (void)received;
}

}  // namespace
}  // namespace xrayd
