// Writer against a real PostgreSQL (tests/support/pg_server.h): batching,
// the idempotent merge, acks after commit, one bad snapshot failing alone,
// outages and shutdown. Records are built by hand with literal COPY rows in
// copy_layout.h order, as the encoder would make them.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/budget.h"
#include "daemon/commit_notice.h"
#include "daemon/config.h"
#include "daemon/errors.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/pg_connection.h"
#include "daemon/record.h"
#include "daemon/record_queue.h"
#include "daemon/writer.h"
#include "tests/support/pg_server.h"

namespace xrayd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using xray::Errc;
using xray::testing::PgServer;

constexpr const char* kNull = "\\N";
constexpr const char* kStart = "2026-11-22 10:00:00.123+00";
constexpr const char* kEnd = "2026-11-22 10:00:02.456+00";

// One COPY text line from its fields.
std::string line(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) out.append(out.empty() ? "" : "\t").append(f);
  return out + "\n";
}

// The outcomes the writer hands to Record::on_done, keyed "app/id".
class AckLog {
 public:
  void add(std::string key, Outcome outcome) {
    {
      std::lock_guard lock(mu_);
      acks_.emplace_back(std::move(key), std::move(outcome));
    }
    cv_.notify_all();
  }
  // Waits until at least `n` acks have arrived; false if `timeout` passes first.
  bool wait_for(std::size_t n, Clock::duration timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return acks_.size() >= n; });
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return acks_.size();
  }
  std::vector<std::pair<std::string, Outcome>> all() const {
    std::lock_guard lock(mu_);
    return acks_;
  }
  std::vector<Outcome> of(const std::string& key) const {
    std::lock_guard lock(mu_);
    std::vector<Outcome> out;
    for (const auto& [k, o] : acks_) {
      if (k == key) out.push_back(o);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, Outcome>> acks_;
};

// Restarts the shared server if a test stopped it and then failed early, so
// the next test still has a database.
class ServerRestarter {
 public:
  ~ServerRestarter() {
    if (down_) PgServer::shared().start_again();
  }
  void stop() {
    PgServer::shared().stop_immediate();
    down_ = true;
  }
  void start() {
    PgServer::shared().start_again();
    down_ = false;
  }

 private:
  bool down_ = false;
};

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg().reset_database();
    config_.postgres = pg().conninfo();
    config_.batch_max_delay = 20ms;
    config_.reconnect_min = 50ms;
    config_.reconnect_max = 500ms;
  }

  void TearDown() override {
    for (auto& w : writers_) w->stop(Clock::now() + 10s);
  }

  static PgServer& pg() { return PgServer::shared(); }

  Writer& start_writer(RecordQueue& queue) {
    const int id = static_cast<int>(writers_.size()) + 1;
    writers_.push_back(std::make_unique<Writer>(id, config_, queue, metrics_, log_));
    writers_.back()->start();
    return *writers_.back();
  }
  Writer& start_writer() { return start_writer(queue_); }

  // A snapshot of `n_steps` steps with `n_evals` evaluations each.
  std::unique_ptr<Record> make_record(const std::string& app, const std::string& id,
                                      const std::string& status, int n_steps, int n_evals,
                                      const std::string& pipeline = "competitor-selection") {
    auto r = std::make_unique<Record>();
    r->app = app;
    r->id = id;
    r->running = status == "running";
    r->execution_row = line({app, id, pipeline, "prod", status, kStart, r->running ? kNull : kEnd,
                             std::to_string(n_steps), R"({"useCase":"test"})",
                             R"({"selected":"B0C9876"})", kNull});
    for (int s = 0; s < n_steps; ++s) {
      r->step_rows +=
          line({app, id, std::to_string(s), "step-" + std::to_string(s), "completed", kStart, kEnd,
                n_evals > 0 ? std::to_string(n_evals) : kNull,
                n_evals > 0 ? std::to_string((n_evals + 1) / 2) : kNull, R"({"candidates":48})",
                R"({"kept":7})", R"({"price":{"min":10,"max":40}})", kNull, "kept the cheap ones",
                kNull, kNull});
      for (int e = 0; e < n_evals; ++e) {
        const bool passed = e % 2 == 0;
        r->evaluation_rows +=
            line({app, id, std::to_string(s), std::to_string(e), "B00" + std::to_string(e),
                  passed ? "t" : "f", passed ? "{}" : R"({"price 49.99 > 40"})",
                  R"({"rating":4.6})", kNull});
      }
    }
    r->step_count = static_cast<std::size_t>(n_steps);
    r->evaluation_count = static_cast<std::size_t>(n_steps * n_evals);
    r->received_at = Clock::now();
    auto lease = budget_.try_acquire(r->encoded_bytes());
    EXPECT_TRUE(lease.has_value());
    if (lease) r->lease = std::move(*lease);
    r->on_done = [this, key = app + "/" + id](Outcome o) { acks_.add(key, std::move(o)); };
    return r;
  }

  void push(std::unique_ptr<Record> record, RecordQueue& queue) {
    EXPECT_TRUE(queue.push(record)) << "queue full";
  }
  void push(std::unique_ptr<Record> record) { push(std::move(record), queue_); }

  // Polls `condition` until it holds; false if `timeout` passes first.
  static bool wait_until(const std::function<bool()>& condition, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!condition()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  // True once some writer's statement waits for a lock another session holds.
  static bool writer_waits_on_lock() {
    return pg().count(
               "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE "
               "'xrayd-writer-%' AND wait_event_type = 'Lock'") > 0;
  }

  // A second session holding an ACCESS EXCLUSIVE lock on executions.
  static std::unique_ptr<PgConnection> lock_executions() {
    auto conn = PgConnection::connect(pg().conninfo(), "test-locker");
    EXPECT_TRUE(conn.has_value()) << conn.error().message;
    if (!conn) return nullptr;
    auto locked = (*conn)->exec("BEGIN; LOCK TABLE executions IN ACCESS EXCLUSIVE MODE");
    EXPECT_TRUE(locked.has_value()) << locked.error().message;
    return std::move(*conn);
  }

  void expect_all_committed() {
    for (const auto& [key, outcome] : acks_.all()) {
      EXPECT_FALSE(outcome.error) << key << ": " << outcome.message;
    }
  }

  static long count(const std::string& table, const std::string& where = "true") {
    return pg().count("SELECT count(*) FROM " + table + " WHERE " + where);
  }

  std::uint64_t value(const Counter& c) const { return c.load(); }

  Metrics metrics_;
  Logger log_{LogLevel::kInfo};
  Budget budget_{std::size_t{1} << 30};  // outlives the queue and the records in it
  Config config_;
  AckLog acks_;
  RecordQueue queue_{10'000};
  RecordQueue second_queue_{10'000};              // for a second writer
  std::vector<std::unique_ptr<Writer>> writers_;  // declared last: stopped before the queues go
};

TEST_F(WriterTest, CommitsRecordsAndAcksEachAfterCommit) {
  for (int i = 0; i < 20; ++i) {
    push(make_record("shop", "e" + std::to_string(i), "completed", i % 4, i % 3));
  }
  Writer& writer = start_writer();

  ASSERT_TRUE(acks_.wait_for(20, 30s));
  expect_all_committed();
  EXPECT_EQ(acks_.size(), 20u);
  EXPECT_EQ(count("executions"), 20);
  long steps = 0, evals = 0;
  for (int i = 0; i < 20; ++i) {
    steps += i % 4;
    evals += (i % 4) * (i % 3);
  }
  EXPECT_EQ(count("steps"), steps);
  EXPECT_EQ(count("evaluations"), evals);
  EXPECT_EQ(pg().query("SELECT status, step_count, duration_ms FROM executions WHERE id = 'e3'"),
            "completed|3|2333");
  EXPECT_EQ(value(metrics_.committed), 20u);
  EXPECT_TRUE(writer.connected());
  // Records are destroyed after their ack, which gives their bytes back.
  EXPECT_TRUE(wait_until([&] { return budget_.held_bytes() == 0; }, 5s));
}

TEST_F(WriterTest, RedeliveredSequentiallyLeavesOneExecution) {
  start_writer();
  // Invariant 4: the same (app, id) three times leaves one execution, one set of steps.
  for (std::size_t k = 1; k <= 3; ++k) {
    push(make_record("shop", "same", "completed", 3, 2));
    ASSERT_TRUE(acks_.wait_for(k, 10s));
  }
  expect_all_committed();
  EXPECT_EQ(count("executions"), 1);
  EXPECT_EQ(count("steps"), 3);
  EXPECT_EQ(count("evaluations"), 6);
}

TEST_F(WriterTest, DuplicatesWithinOneBatchAreWrittenOnceAndAllAcked) {
  // Pushed before the writer starts, so one pop takes them all into one batch.
  for (int k = 0; k < 3; ++k) push(make_record("shop", "same", "completed", 3, 2));
  push(make_record("shop", "mixed", "running", 2, 1));
  push(make_record("shop", "mixed", "completed", 3, 1));
  push(make_record("shop", "mixed", "running", 1, 1));
  start_writer();

  ASSERT_TRUE(acks_.wait_for(6, 30s));
  expect_all_committed();
  EXPECT_EQ(acks_.of("shop/same").size(), 3u);
  EXPECT_EQ(acks_.of("shop/mixed").size(), 3u);
  EXPECT_EQ(value(metrics_.batches), 1u);
  // Invariant 4: one execution each; the final "mixed" beats both running ones.
  EXPECT_EQ(count("executions"), 2);
  EXPECT_EQ(count("steps", "execution_id = 'same'"), 3);
  EXPECT_EQ(count("evaluations", "execution_id = 'same'"), 6);
  EXPECT_EQ(pg().query("SELECT status FROM executions WHERE id = 'mixed'"), "completed");
  EXPECT_EQ(count("steps", "execution_id = 'mixed'"), 3);
}

TEST_F(WriterTest, FinalSnapshotReplacesRunningOne) {
  start_writer();
  push(make_record("shop", "x", "running", 2, 2));
  ASSERT_TRUE(acks_.wait_for(1, 10s));
  EXPECT_EQ(pg().query("SELECT status FROM executions WHERE id = 'x'"), "running");
  EXPECT_EQ(count("steps"), 2);

  push(make_record("shop", "x", "completed", 3, 1));
  ASSERT_TRUE(acks_.wait_for(2, 10s));
  expect_all_committed();
  EXPECT_EQ(pg().query("SELECT status, ended_at IS NOT NULL FROM executions WHERE id = 'x'"),
            "completed|t");
  EXPECT_EQ(count("steps"), 3);
  EXPECT_EQ(count("evaluations"), 3);
}

TEST_F(WriterTest, LateRunningSnapshotNeverReplacesFinalOne) {
  start_writer();
  push(make_record("shop", "x", "completed", 3, 1));
  ASSERT_TRUE(acks_.wait_for(1, 10s));
  push(make_record("shop", "x", "running", 1, 5));
  ASSERT_TRUE(acks_.wait_for(2, 10s));
  expect_all_committed();
  // Invariant 4: the stored final snapshot and its steps stay as they were.
  EXPECT_EQ(pg().query("SELECT status FROM executions WHERE id = 'x'"), "completed");
  EXPECT_EQ(count("steps"), 3);
  EXPECT_EQ(count("evaluations"), 3);
}

TEST_F(WriterTest, TwoWritersMergingTheSameIdsLeaveOneExecutionEach) {
  config_.batch_max_count = 8;  // many small transactions, so the two writers interleave
  RecordQueue& second = second_queue_;
  constexpr int kIds = 150;
  for (int i = 0; i < kIds; ++i) {
    const std::string id = "c" + std::to_string(i);
    // Even ids: the identical snapshot to both writers. Odd ids: running to
    // one, completed to the other.
    push(make_record("shop", id, i % 2 == 0 ? "completed" : "running", i % 2 == 0 ? 3 : 2, 2));
    push(make_record("shop", id, "completed", 3, 2), second);
  }
  start_writer(queue_);
  start_writer(second);

  ASSERT_TRUE(acks_.wait_for(2 * kIds, 60s));
  expect_all_committed();
  EXPECT_EQ(count("executions"), kIds);
  EXPECT_EQ(count("executions", "status = 'completed'"), kIds);
  EXPECT_EQ(count("steps"), 3 * kIds);
  EXPECT_EQ(count("evaluations"), 6 * kIds);
  EXPECT_EQ(pg().count("SELECT count(*) FROM (SELECT execution_id FROM steps GROUP BY 1 "
                       "HAVING count(*) <> 3) AS odd"),
            0);
}

TEST_F(WriterTest, PoisonRecordFailsAloneAndTheWriterCarriesOn) {
  pg().query("ALTER TABLE executions ADD CONSTRAINT poison CHECK (pipeline <> 'poison')");
  for (int i = 0; i < 30; ++i) {
    push(make_record("shop", "p" + std::to_string(i), "completed", 2, 2,
                     i == 17 ? "poison" : "competitor-selection"));
  }
  start_writer();

  ASSERT_TRUE(acks_.wait_for(30, 30s));
  // Invariant 5: every other snapshot of the batch is written.
  for (const auto& [key, outcome] : acks_.all()) {
    if (key == "shop/p17") {
      EXPECT_EQ(outcome.error, Errc::kRejectedByDatabase);
      EXPECT_NE(outcome.message.find("\"poison\""), std::string::npos) << outcome.message;
      EXPECT_NE(outcome.message.find("(SQLSTATE 23514)"), std::string::npos) << outcome.message;
    } else {
      EXPECT_FALSE(outcome.error) << key << ": " << outcome.message;
    }
  }
  EXPECT_EQ(count("executions"), 29);
  EXPECT_EQ(count("steps"), 58);
  EXPECT_EQ(count("evaluations"), 116);
  EXPECT_EQ(count("steps", "execution_id = 'p17'"), 0);
  EXPECT_EQ(value(metrics_.rejected_by_database), 1u);
  EXPECT_EQ(value(metrics_.committed), 29u);

  push(make_record("shop", "after", "completed", 1, 1));
  ASSERT_TRUE(acks_.wait_for(31, 10s));
  EXPECT_FALSE(acks_.of("shop/after").at(0).error);
  EXPECT_EQ(count("executions"), 30);
}

// Collects what a LISTENing session receives on the commit channel.
class CommitListener {
 public:
  explicit CommitListener(const std::string& conninfo) {
    auto conn = PgConnection::connect(conninfo, "test-listener");
    EXPECT_TRUE(conn.has_value());
    if (!conn) return;
    conn_ = std::move(*conn);
    EXPECT_TRUE(conn_->exec(std::string("LISTEN ") + kCommitChannel).has_value());
  }
  // Reads notices until `ids` (app/id keys) were all named, or `timeout`.
  std::vector<std::string> payloads_until(std::size_t ids, Clock::duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (named_.size() < ids && Clock::now() < deadline) {
      auto notes = conn_->take_notifications();
      if (!notes) break;
      for (const auto& n : *notes) {
        payloads_.push_back(n.payload);
        for (const auto& [app, id] : parse_commit_notice(n.payload))
          named_.push_back(app + "/" + id);
      }
      std::this_thread::sleep_for(10ms);
    }
    return payloads_;
  }
  const std::vector<std::string>& named() const { return named_; }

 private:
  std::unique_ptr<PgConnection> conn_;
  std::vector<std::string> payloads_;
  std::vector<std::string> named_;
};

TEST_F(WriterTest, NotifiesTheWinnersOfEachCommittedBatchInChunks) {
  pg().query("ALTER TABLE executions ADD CONSTRAINT poison CHECK (pipeline <> 'poison')");
  CommitListener listener(pg().conninfo());
  // One batch of long ids, so that its winners need several notices (each
  // under NOTIFY's 8000-byte limit).
  std::set<std::string> committed;
  for (int i = 0; i < 120; ++i) {
    const std::string id = std::string(190, 'x') + "\"" + std::to_string(i);
    push(make_record("shop", id, "completed", 1, 0));
    committed.insert("shop/" + id);
  }
  push(make_record("shop", "final", "completed", 1, 0));
  committed.insert("shop/final");
  start_writer();
  ASSERT_TRUE(acks_.wait_for(121, 30s));
  EXPECT_EQ(value(metrics_.batches), 1u);
  // Neither a rejected snapshot nor a running one that loses to a stored
  // final one is a winner.
  push(make_record("shop", "rejected", "completed", 1, 0, "poison"));
  push(make_record("shop", "final", "running", 1, 0));
  ASSERT_TRUE(acks_.wait_for(123, 10s));
  push(make_record("shop", "last", "completed", 1, 0));
  ASSERT_TRUE(acks_.wait_for(124, 10s));
  committed.insert("shop/last");
  const auto payloads = listener.payloads_until(committed.size(), 10s);
  EXPECT_GT(payloads.size(), 3u) << "the big batch's winners span several notices";
  for (const auto& p : payloads) EXPECT_LT(p.size(), 8000u);
  std::multiset<std::string> named(listener.named().begin(), listener.named().end());
  EXPECT_EQ(std::set<std::string>(named.begin(), named.end()), committed);
  EXPECT_EQ(named.size(), committed.size()) << "each committed execution once";
}

TEST_F(WriterTest, RowThatFailsCopyFailsAlone) {
  for (int i = 0; i < 5; ++i) {
    auto r = make_record("shop", "j" + std::to_string(i), "completed", 1, 1);
    if (i == 2) {
      const std::string good = R"({"useCase":"test"})";
      r->execution_row.replace(r->execution_row.find(good), good.size(), "{not json");
    }
    push(std::move(r));
  }
  start_writer();

  ASSERT_TRUE(acks_.wait_for(5, 30s));
  const auto bad = acks_.of("shop/j2");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].error, Errc::kRejectedByDatabase);
  EXPECT_NE(bad[0].message.find("(SQLSTATE 22P02)"), std::string::npos) << bad[0].message;
  EXPECT_EQ(count("executions"), 4);
  EXPECT_EQ(value(metrics_.committed), 4u);
}

TEST_F(WriterTest, AcksOnlyAfterCommit) {
  Writer& writer = start_writer();
  ASSERT_TRUE(wait_until([&] { return writer.connected(); }, 10s));
  auto locker = lock_executions();
  ASSERT_NE(locker, nullptr);
  for (int i = 0; i < 5; ++i) {
    push(make_record("shop", "a" + std::to_string(i), "completed", 2, 2));
  }

  ASSERT_TRUE(wait_until(writer_waits_on_lock, 10s));
  // Invariant 1: while its transaction cannot commit, nothing is acknowledged.
  EXPECT_FALSE(acks_.wait_for(1, 1s));
  EXPECT_EQ(value(metrics_.committed), 0u);

  ASSERT_TRUE(locker->exec("COMMIT").has_value());
  ASSERT_TRUE(acks_.wait_for(5, 10s));
  expect_all_committed();
  EXPECT_EQ(count("executions"), 5);
  EXPECT_EQ(count("steps"), 10);
}

TEST_F(WriterTest, SurvivesAnOutageWithNothingLostOrDuplicated) {
  ServerRestarter server;
  Writer& writer = start_writer();
  ASSERT_TRUE(wait_until([&] { return writer.connected(); }, 10s));
  // Hold the writer inside its transaction, so it has a batch in hand when the server dies.
  auto locker = lock_executions();
  ASSERT_NE(locker, nullptr);
  for (int i = 0; i < 10; ++i) {
    push(make_record("shop", "o" + std::to_string(i), "completed", 2, 1));
  }
  ASSERT_TRUE(wait_until(writer_waits_on_lock, 10s));

  server.stop();
  for (int i = 10; i < 20; ++i) {
    push(make_record("shop", "o" + std::to_string(i), "completed", 2, 1));
  }
  ASSERT_TRUE(wait_until([&] { return !writer.connected(); }, 10s));
  // A few seconds down, with reconnects failing meanwhile.
  ASSERT_TRUE(wait_until([&] { return value(metrics_.pg_unavailable_ms) >= 2000; }, 30s));
  EXPECT_GE(value(metrics_.pg_connect_failures), 2u);
  // Invariant 7: held, not answered, while the database is away.
  EXPECT_EQ(acks_.size(), 0u);
  server.start();

  ASSERT_TRUE(acks_.wait_for(20, 60s));
  expect_all_committed();
  EXPECT_EQ(acks_.size(), 20u);
  EXPECT_EQ(count("executions"), 20);
  EXPECT_EQ(count("steps"), 40);
  EXPECT_EQ(count("evaluations"), 40);
  EXPECT_TRUE(writer.connected());
  EXPECT_GE(value(metrics_.pg_reconnects), 1u);
  EXPECT_GE(value(metrics_.batch_retries), 1u);
}

TEST_F(WriterTest, ReportsItsFailureWhenAnExceptionEndsTheThread) {
  // STYLE §4: a writer boundary logs and exits, and tells its owner, so that
  // the daemon can exit non-zero and be restarted. Every record it held is
  // answered once (invariant 3), and nothing not committed was acknowledged.
  std::atomic<int> failed_id{0};
  Writer writer(7, config_, queue_, metrics_, log_, [&](int id) { failed_id = id; });
  for (int i = 0; i < 4; ++i) push(make_record("shop", "f" + std::to_string(i), "completed", 1, 1));
  auto bomb = make_record("shop", "bomb", "completed", 1, 1);
  bomb->on_done = [](Outcome) { throw std::runtime_error("a bug in an ack callback"); };
  push(std::move(bomb));
  writer.start();
  ASSERT_TRUE(wait_until([&] { return failed_id.load() != 0; }, 30s));
  EXPECT_EQ(failed_id.load(), 7);
  EXPECT_TRUE(writer.failed());
  EXPECT_FALSE(writer.connected());
  EXPECT_EQ(value(metrics_.writer_exceptions), 1u);
  ASSERT_TRUE(acks_.wait_for(4, 10s));
  for (int i = 0; i < 4; ++i) {
    const std::string key = "shop/f" + std::to_string(i);
    auto outcomes = acks_.of(key);
    ASSERT_EQ(outcomes.size(), 1u) << key;
    // Invariant 1: committed only if its row is there.
    const bool stored =
        pg().count("SELECT count(*) FROM executions WHERE id = 'f" + std::to_string(i) + "'") == 1;
    if (!outcomes[0].error) {
      EXPECT_TRUE(stored) << key;
    }
  }
  writer.stop(Clock::now());
}

TEST_F(WriterTest, DrainsTheQueueOnStop) {
  for (int i = 0; i < 50; ++i) {
    push(make_record("shop", "d" + std::to_string(i), "completed", 1, 1));
  }
  Writer& writer = start_writer();
  // Invariant 8: stop() keeps writing until the queue is empty.
  writer.stop(Clock::now() + 30s);
  EXPECT_EQ(acks_.size(), 50u);
  expect_all_committed();
  EXPECT_EQ(count("executions"), 50);
  EXPECT_EQ(queue_.depth(), 0u);
}

TEST_F(WriterTest, ShutdownWithDatabaseDownAnswersEveryRecord) {
  config_.batch_max_count = 4;  // some records in hand, the rest still queued
  ServerRestarter server;
  Writer& writer = start_writer();
  ASSERT_TRUE(wait_until([&] { return writer.connected(); }, 10s));
  auto locker = lock_executions();
  ASSERT_NE(locker, nullptr);
  for (int i = 0; i < 15; ++i) {
    push(make_record("shop", "s" + std::to_string(i), "completed", 1, 1));
  }
  ASSERT_TRUE(wait_until(writer_waits_on_lock, 10s));
  server.stop();
  ASSERT_TRUE(wait_until([&] { return !writer.connected(); }, 10s));

  const auto deadline = Clock::now() + 1500ms;
  writer.stop(deadline);
  // Invariant 8: by the time stop() returns, every record has exactly one answer.
  EXPECT_LT(Clock::now(), deadline + 2s);
  EXPECT_EQ(acks_.size(), 15u);
  for (int i = 0; i < 15; ++i) {
    const auto outcomes = acks_.of("shop/s" + std::to_string(i));
    ASSERT_EQ(outcomes.size(), 1u) << i;
    EXPECT_EQ(outcomes[0].error, Errc::kShuttingDown);
    EXPECT_EQ(outcomes[0].message, "not stored: daemon shutting down; retry");
  }
  EXPECT_EQ(value(metrics_.failed), 15u);
  EXPECT_EQ(budget_.held_bytes(), 0u);
  server.start();
  EXPECT_EQ(count("executions"), 0);
}

TEST_F(WriterTest, StopCancelsAStatementStuckPastTheDeadline) {
  Writer& writer = start_writer();
  ASSERT_TRUE(wait_until([&] { return writer.connected(); }, 10s));
  auto locker = lock_executions();
  ASSERT_NE(locker, nullptr);
  for (int i = 0; i < 3; ++i) {
    push(make_record("shop", "k" + std::to_string(i), "completed", 1, 1));
  }
  ASSERT_TRUE(wait_until(writer_waits_on_lock, 10s));

  writer.stop(Clock::now() + 500ms);
  EXPECT_EQ(acks_.size(), 3u);
  for (const auto& [key, outcome] : acks_.all()) {
    EXPECT_EQ(outcome.error, Errc::kShuttingDown) << key;
  }
  ASSERT_TRUE(locker->exec("COMMIT").has_value());
  // Answered "not stored", and indeed not stored.
  EXPECT_EQ(count("executions"), 0);
}

TEST_F(WriterTest, ClosesBatchesAtMaxBytes) {
  auto probe = make_record("shop", "b0", "completed", 1, 1);
  config_.batch_max_bytes = 2 * probe->encoded_bytes() + 1;  // two records fit, three do not
  push(std::move(probe));
  for (int i = 1; i < 10; ++i) {
    push(make_record("shop", "b" + std::to_string(i), "completed", 1, 1));
  }
  start_writer();

  ASSERT_TRUE(acks_.wait_for(10, 30s));
  expect_all_committed();
  EXPECT_EQ(value(metrics_.batches), 5u);
  EXPECT_EQ(count("executions"), 10);
}

TEST_F(WriterTest, AppliesNewBatchLimitsAtRuntime) {
  Writer& writer = start_writer();
  Config reloaded = config_;
  reloaded.batch_max_count = 1;
  writer.update_settings(reloaded);
  // The batch being collected during the update may use the old limits; the next ones do not.
  push(make_record("shop", "r0", "completed", 1, 1));
  ASSERT_TRUE(acks_.wait_for(1, 10s));
  const std::uint64_t before = value(metrics_.batches);
  for (int i = 1; i <= 6; ++i)
    push(make_record("shop", "r" + std::to_string(i), "completed", 1, 1));

  ASSERT_TRUE(acks_.wait_for(7, 30s));
  expect_all_committed();
  EXPECT_EQ(value(metrics_.batches) - before, 6u);
}

}  // namespace
}  // namespace xrayd
