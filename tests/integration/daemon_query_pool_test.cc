// QueryPool against a real PostgreSQL: its own connections, read-only
// sessions, statement timeouts, a bounded queue, stopping, reconnecting, the
// hand-off to an io_context, and a writer that slow queries do not delay.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include "daemon/budget.h"
#include "daemon/query_pool.h"
#include "daemon/record_queue.h"
#include "daemon/writer.h"
#include "tests/support/pg_server.h"

namespace xrayd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Status = QueryPool::JobStatus;
using xray::testing::PgServer;

// What became of the jobs: status, and the text the statement returned (or its SQLSTATE).
class Outcomes {
 public:
  void add(Status status, std::string text) {
    {
      std::lock_guard lock(mu_);
      all_.emplace_back(status, std::move(text));
    }
    cv_.notify_all();
  }
  bool wait_for(std::size_t n, Clock::duration timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return all_.size() >= n; });
  }
  std::vector<std::pair<Status, std::string>> all() const {
    std::lock_guard lock(mu_);
    return all_;
  }
  std::size_t count(Status status) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& [s, text] : all_) n += s == status ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<Status, std::string>> all_;
};

class QueryPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { pg().reset_database(); }
  void TearDown() override {
    if (pool_) pool_->stop(Clock::now());
  }
  static PgServer& pg() { return PgServer::shared(); }

  QueryPool& start_pool(std::size_t connections, std::chrono::milliseconds timeout = 5s,
                        std::size_t max_queued = 32) {
    QueryPool::Options options;
    options.conninfo = pg().conninfo();
    options.connections = connections;
    options.statement_timeout = timeout;
    options.max_queued = max_queued;
    options.reconnect_min = 20ms;
    options.reconnect_max = 200ms;
    pool_ = std::make_unique<QueryPool>(options, log_);
    pool_->start();
    return *pool_;
  }

  // Submits `sql` (one value, one row expected); the outcome lands in outcomes_.
  void submit(const std::string& sql) {
    pool_->submit([this, sql](PgConnection* conn, Status status) {
      if (conn == nullptr) return outcomes_.add(status, "");
      auto rows = conn->query(sql, {});
      if (!rows) return outcomes_.add(status, "error " + rows.error().sqlstate);
      outcomes_.add(status, rows->rows() > 0 ? std::string(rows->get(0, 0)) : "");
    });
  }

  static bool wait_until(const std::function<bool()>& condition, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  Logger log_{LogLevel::kWarn};
  Outcomes outcomes_;
  std::unique_ptr<QueryPool> pool_;
};

TEST_F(QueryPoolTest, RunsJobsFromManyThreadsOnItsOwnReadOnlyConnections) {
  start_pool(2);
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([this] {
      for (int i = 0; i < 5; ++i) {
        submit(
            "SELECT current_setting('application_name') || ' ' || "
            "current_setting('default_transaction_read_only') || ' ' || "
            "current_setting('statement_timeout')");
      }
    });
  }
  for (auto& t : submitters) t.join();
  ASSERT_TRUE(outcomes_.wait_for(20, 30s));
  for (const auto& [status, text] : outcomes_.all()) {
    EXPECT_EQ(status, Status::kRun);
    EXPECT_TRUE(text == "xrayd-query-1 on 5s" || text == "xrayd-query-2 on 5s") << text;
  }
  EXPECT_TRUE(wait_until([&] { return pool_->connected() == 2; }, 10s));
  // Pool invariant 1: each job exactly once.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(outcomes_.all().size(), 20u);
}

TEST_F(QueryPoolTest, CannotWrite) {
  start_pool(1);
  submit("INSERT INTO xray_migrations (name) VALUES ('nope') RETURNING name");
  ASSERT_TRUE(outcomes_.wait_for(1, 10s));
  EXPECT_EQ(outcomes_.all()[0].second, "error 25006");  // read_only_sql_transaction
}

TEST_F(QueryPoolTest, EndsSlowStatementsAtTheTimeout) {
  start_pool(1, 200ms);
  submit("SELECT pg_sleep(5)::text");
  ASSERT_TRUE(outcomes_.wait_for(1, 10s));
  EXPECT_EQ(outcomes_.all()[0].second, "error 57014");  // query_canceled
  // The connection is still good.
  submit("SELECT 'after'");
  ASSERT_TRUE(outcomes_.wait_for(2, 10s));
  EXPECT_EQ(outcomes_.all()[1].second, "after");
}

TEST_F(QueryPoolTest, RefusesJobsBeyondItsQueueAndExpiresThoseThatWaitedTooLong) {
  start_pool(1, 300ms, 2);
  submit("SELECT pg_sleep(5)::text");  // runs, and is cancelled at 300 ms
  ASSERT_TRUE(wait_until([&] { return pool_->queued() == 0; }, 5s));
  submit("SELECT pg_sleep(5)::text");  // waits up to 300 ms, then runs 300 ms
  submit("SELECT 'late'");             // waits about 600 ms: longer than the timeout
  submit("SELECT 'refused'");          // the queue holds 2
  ASSERT_TRUE(outcomes_.wait_for(4, 10s));
  const auto all = outcomes_.all();
  EXPECT_EQ(all[0].first, Status::kBusy) << "refused at once, on the submitting thread";
  EXPECT_EQ(all[3].first, Status::kExpired);
  EXPECT_EQ(all[1].second, "error 57014");
}

TEST_F(QueryPoolTest, StopAnswersQueuedJobsAndCancelsRunningStatements) {
  start_pool(1, 60s);
  submit("SELECT pg_sleep(60)::text");
  ASSERT_TRUE(wait_until([&] { return pool_->queued() == 0; }, 5s));
  submit("SELECT 'never'");
  const auto started = Clock::now();
  pool_->stop(Clock::now() + 200ms);
  EXPECT_LT(Clock::now() - started, 20s) << "the running statement was cancelled";
  ASSERT_TRUE(outcomes_.wait_for(2, 1s));
  EXPECT_EQ(outcomes_.count(Status::kShuttingDown), 1u);
  EXPECT_EQ(outcomes_.count(Status::kRun), 1u);
  submit("SELECT 'after stop'");
  ASSERT_TRUE(outcomes_.wait_for(3, 1s));
  EXPECT_EQ(outcomes_.count(Status::kShuttingDown), 2u);
}

TEST_F(QueryPoolTest, ReconnectsAfterPostgresRestarts) {
  start_pool(1);
  submit("SELECT 'before'");
  ASSERT_TRUE(outcomes_.wait_for(1, 10s));
  // The test server commits without waiting for WAL: flush the fresh schema first.
  pg().query("CHECKPOINT");
  pg().stop_immediate();
  submit("SELECT 'during'");
  ASSERT_TRUE(outcomes_.wait_for(2, 10s));
  // Either the pool saw the connection gone, or the statement failed on it.
  const auto [status, text] = outcomes_.all()[1];
  EXPECT_TRUE(status == Status::kUnavailable || text.rfind("error", 0) == 0) << text;
  pg().start_again();
  // Within a few backoff delays a job runs again.
  std::size_t expected = 2;
  bool ran = false;
  for (int i = 0; i < 100 && !ran; ++i) {
    submit("SELECT 'after'");
    ASSERT_TRUE(outcomes_.wait_for(++expected, 10s));
    ran = outcomes_.all().back().second == "after";
    if (!ran) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(ran);
}

TEST_F(QueryPoolTest, AsyncQueryCompletesOnTheCallersStrand) {
  start_pool(2);
  boost::asio::io_context ioc;
  auto strand = boost::asio::make_strand(ioc);
  std::atomic<int> done{0};
  std::atomic<int> on_strand{0};
  for (int i = 0; i < 10; ++i) {
    boost::asio::co_spawn(
        strand,
        [&, i]() -> boost::asio::awaitable<void> {
          std::function<std::string(PgConnection&)> work = [i](PgConnection& conn) {
            auto rows = conn.query("SELECT $1::text", std::vector<std::string>{std::to_string(i)});
            return rows ? std::string(rows->get(0, 0)) : std::string("error");
          };
          std::function<std::string(Status)> fallback = [](Status) { return std::string("no"); };
          auto pending = async_query<std::string>(*pool_, std::move(work), std::move(fallback),
                                                  boost::asio::use_awaitable);
          std::string text = co_await std::move(pending);
          EXPECT_EQ(text, std::to_string(i));
          if (strand.running_in_this_thread()) ++on_strand;
          ++done;
        },
        boost::asio::detached);
  }
  // run() returns only once every job has completed: the pending jobs keep it busy.
  ioc.run();
  EXPECT_EQ(done.load(), 10);
  EXPECT_EQ(on_strand.load(), 10);
}

TEST_F(QueryPoolTest, SlowQueriesDoNotDelayAWriter) {
  // Every pool connection busy with a slow statement...
  start_pool(2, 30s);
  submit("SELECT pg_sleep(3)::text");
  submit("SELECT pg_sleep(3)::text");
  ASSERT_TRUE(wait_until([&] { return pool_->queued() == 0; }, 5s));
  // ...while a writer on its own connection commits a batch.
  Metrics metrics;
  Budget budget(std::size_t{1} << 30);
  RecordQueue queue(100);
  Config config;
  config.postgres = pg().conninfo();
  config.batch_max_delay = 5ms;
  Writer writer(1, config, queue, metrics, log_);
  writer.start();
  std::atomic<int> acked{0};
  auto record = std::make_unique<Record>();
  record->app = "shop";
  record->id = "during-slow-queries";
  record->execution_row =
      "shop\tduring-slow-queries\tp\t\\N\tcompleted\t2026-11-22 10:00:00+00\t\\N\t0\t\\N\t\\N\t"
      "\\N\n";
  record->on_done = [&](Outcome o) {
    EXPECT_FALSE(o.error) << o.message;
    ++acked;
  };
  ASSERT_TRUE(queue.push(record));
  ASSERT_TRUE(wait_until([&] { return acked.load() == 1; }, 20s));
  // Committed while both slow queries were still running.
  EXPECT_EQ(outcomes_.all().size(), 0u);
  writer.stop(Clock::now() + 5s);
  ASSERT_TRUE(outcomes_.wait_for(2, 10s));
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions WHERE id = 'during-slow-queries'"), 1);
}

}  // namespace
}  // namespace xrayd
