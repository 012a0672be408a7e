// LiveFeed against a real PostgreSQL: commit notices become stream events for
// the subscribers whose filter matches; a lost connection is reported as a gap.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "daemon/commit_notice.h"
#include "daemon/live_feed.h"
#include "tests/support/pg_server.h"

namespace xrayd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using xray::testing::PgServer;

class LiveFeedTest : public ::testing::Test {
 protected:
  void SetUp() override { pg().reset_database(); }
  static PgServer& pg() { return PgServer::shared(); }

  void start_feed() {
    LiveFeed::Options options;
    options.conninfo = pg().conninfo();
    options.reconnect_min = 20ms;
    options.reconnect_max = 200ms;
    feed_ = std::make_unique<LiveFeed>(options, hub_, metrics_, log_);
    feed_->start();
    ASSERT_TRUE(wait_until([&] { return feed_->listening(); }, 10s));
  }

  // Inserts executions and notifies as a writer's batch would.
  static void commit(const std::vector<std::pair<std::string, std::string>>& executions) {
    std::string sql = "BEGIN;";
    std::string pairs;
    for (const auto& [app, id] : executions) {
      sql +=
          "INSERT INTO executions (app, id, pipeline, status, started_at, step_count) VALUES ('" +
          app + "', '" + id + "', '" + (app == "bank" ? "loans" : "p") +
          "', 'completed', '2026-11-22 10:00:00+00', 0);";
      pairs += (pairs.empty() ? "" : ",") + std::string("[\"") + app + "\",\"" + id + "\"]";
    }
    sql += "SELECT pg_notify('" + std::string(kCommitChannel) + "', '[" + pairs + "]'); COMMIT;";
    pg().query(sql);
  }

  // Takes from `s` until `n` events arrived (or the timeout).
  static std::string collect(StreamSubscriber& s, std::size_t n, Clock::duration timeout,
                             bool* gap = nullptr) {
    std::string text;
    std::size_t events = 0;
    const auto deadline = Clock::now() + timeout;
    while (events < n && Clock::now() < deadline) {
      auto batch = s.take();
      if (gap != nullptr && batch.gap) *gap = true;
      for (const auto& e : batch.events) text += *e;
      events += batch.events.size();
      if (events < n) std::this_thread::sleep_for(10ms);
    }
    return text;
  }

  static bool wait_until(const std::function<bool()>& condition, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  Metrics metrics_;
  Logger log_{LogLevel::kWarn};
  StreamHub hub_{metrics_};
  std::unique_ptr<LiveFeed> feed_;  // declared last: stopped before the hub goes
};

TEST_F(LiveFeedTest, PublishesCommittedExecutionsToMatchingSubscribers) {
  start_feed();
  std::atomic<int> woken{0};
  auto all = hub_.subscribe({}, 10, [&] { ++woken; });
  auto bank = hub_.subscribe({"bank", "loans"}, 10, [&] { ++woken; });
  commit({{"shop", "e1"}, {"bank", "l1"}, {"shop", "e2"}});
  const std::string everything = collect(all->subscriber(), 3, 10s);
  for (const char* id : {"e1", "l1", "e2"}) {
    EXPECT_NE(everything.find(std::string("\"id\" : \"") + id + "\""), std::string::npos)
        << everything;
  }
  EXPECT_EQ(everything.rfind("event: execution\ndata: {", 0), 0u) << everything;
  EXPECT_NE(everything.find("\"execution_url\" : \"/v1/executions/bank/l1\"}\n\n"),
            std::string::npos)
      << everything;
  const std::string loans = collect(bank->subscriber(), 1, 10s);
  EXPECT_NE(loans.find("\"l1\""), std::string::npos) << loans;
  EXPECT_EQ(loans.find("\"e1\""), std::string::npos) << loans;
  EXPECT_GE(woken.load(), 2);
  // A notice for something that is not (or no longer) there publishes nothing.
  pg().query("SELECT pg_notify('xray_executions', '[[\"shop\",\"ghost\"]]')");
  pg().query("SELECT pg_notify('xray_executions', 'not json')");
  commit({{"shop", "e3"}});
  const std::string later = collect(all->subscriber(), 1, 10s);
  EXPECT_NE(later.find("\"e3\""), std::string::npos) << later;
  EXPECT_EQ(later.find("ghost"), std::string::npos) << later;
}

TEST_F(LiveFeedTest, ReportsAGapWhenItReconnects) {
  start_feed();
  auto s = hub_.subscribe({}, 10, [] {});
  // The test server commits without waiting for WAL: flush the fresh schema first.
  pg().query("CHECKPOINT");
  pg().stop_immediate();
  ASSERT_TRUE(wait_until([&] { return !feed_->listening(); }, 20s));
  pg().start_again();
  ASSERT_TRUE(wait_until([&] { return feed_->listening(); }, 20s));
  commit({{"shop", "after"}});
  bool gap = false;
  const std::string text = collect(s->subscriber(), 1, 10s, &gap);
  EXPECT_TRUE(gap);
  EXPECT_NE(text.find("\"after\""), std::string::npos) << text;
  EXPECT_GE(metrics_.live_feed_reconnects.load(), 1u);
}

TEST_F(LiveFeedTest, StopsPromptly) {
  start_feed();
  const auto started = Clock::now();
  feed_->stop();
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_FALSE(feed_->listening());
}

}  // namespace
}  // namespace xrayd
