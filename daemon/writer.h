// Writer: one thread and one PostgreSQL connection that take Records from the
// RecordQueue, write them in batches and acknowledge each one.
//
// A batch closes at batch_max_bytes (sum of Record::encoded_bytes; a single
// larger record goes alone), batch_max_count, or batch_max_delay after its
// first record, whichever comes first. Each batch is one transaction:
//   BEGIN; COPY the rows into connection-local TEMP staging tables; then, in
//   one pipelined round trip, upsert the executions, replace the steps and
//   evaluations of the executions that won the upsert, NOTIFY listeners of
//   the winners (daemon/commit_notice.h), COMMIT.
// The merge is idempotent (invariant 4): the same (app, id) written any number
// of times leaves one execution and one set of steps and evaluations, and a
// stored final snapshot (completed/failed) is never replaced by a `running`
// one. Duplicates of one (app, id) inside a batch are written once (a final
// one over a running one, else the last) and all of them are acknowledged.
//
// Outcomes, each given by calling Record::on_done exactly once:
//   - committed (empty error), only after COMMIT succeeded (invariant 1);
//   - Errc::kRejectedByDatabase with PostgreSQL's message and SQLSTATE, for
//     the one record whose rows PostgreSQL refused: a batch that fails on its
//     data is rolled back and its records are written one by one, so every
//     other record commits (invariant 5);
//   - Errc::kShuttingDown, for records still unwritten when stop()'s deadline
//     passes (invariant 8);
//   - Errc::kDatabaseUnavailable, for the records in hand when an exception
//     (a bug) ends the writer thread; it is logged and counted
//     (writer_exceptions), the writer stays disconnected, and the failure
//     callback tells the owner, who should stop the daemon with an error so
//     that its supervisor restarts it (STYLE §4: a writer boundary logs and
//     exits; only committed data was acknowledged).
// A lost connection or a transient error (see PgError) is not an outcome: the
// writer keeps the batch, reconnects with exponential backoff between
// reconnect_min and reconnect_max (with jitter), and writes the batch again,
// which the idempotent merge makes safe even when a COMMIT's fate is unknown
// (invariant 7). A record is destroyed, releasing its budget bytes, only after
// its on_done returned.
//
// The writer's own invariants:
//   1. Every record popped from the queue is answered exactly once: it sits in
//      exactly one of incoming_ or batch_ until answer() takes it out.
//   2. No write starts after the stop deadline has passed.
//
// Threads: the constructor, start(), stop() and the destructor run on the
// owner's thread (service or test); request_stop(), connected() and
// update_settings() may be called from any thread; everything else runs on
// the writer's own thread, named "xrayd-writer-<id>".
//
// Limitation: a statement stuck on a server that stopped answering at the TCP
// level cannot be cancelled; stop() then waits until TCP keepalives or
// tcp_user_timeout (pg_connection.cc) end the connection.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/pg_connection.h"
#include "daemon/record.h"
#include "daemon/record_queue.h"
#include "daemon/sync.h"

namespace xrayd {

class Writer {
 public:
  using Clock = std::chrono::steady_clock;

  // Called once, on the writer thread, after an exception ended it and the
  // records in hand were answered. Must not block.
  using FailureCallback = std::function<void(int id)>;

  // Takes postgres, batch_max_*, reconnect_min/max from `config`. `id` names
  // the thread, the log component ("writer[1]") and the PostgreSQL
  // application_name. `queue`, `metrics` and `log` must outlive the Writer.
  Writer(int id, const Config& config, RecordQueue& queue, Metrics& metrics, Logger& log,
         FailureCallback on_failure = {});
  // Stops a running writer as stop(now) would.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Starts the thread, which connects (retrying with backoff) and then writes
  // until stopped. Call once.
  void start();

  // Asks the writer to drain and exit: it keeps writing until the queue is
  // empty (stop the producers first), then exits. If `deadline` passes first —
  // PostgreSQL unreachable or too slow — every record in hand or still queued
  // is answered with Errc::kShuttingDown and the writer exits. Does not wait.
  void request_stop(Clock::time_point deadline);

  // request_stop(deadline), then waits for the thread to exit. Once the
  // deadline has passed it also cancels the writer's running statement
  // (repeatedly, until the thread exits), so a statement waiting on a lock
  // does not hold shutdown. When this returns, every record this writer took
  // and, if the deadline passed, every record left in the queue is answered.
  void stop(Clock::time_point deadline);

  // True while the writer holds a live connection (for /readyz and
  // xray_writers_connected). Any thread.
  bool connected() const { return connected_.load(std::memory_order_relaxed); }

  // True once an exception has ended the writer thread. Any thread.
  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // While disconnected: how long since the connection was lost (or since the
  // writer started, if it never connected); zero while connected. Any thread.
  Clock::duration disconnected_for() const;
  // While disconnected: the time without a connection not yet added to
  // Metrics::pg_unavailable_ms (which is settled at each connection attempt
  // and at exit); zero while connected. Any thread.
  Clock::duration unsettled_unavailable() const;

  // SIGHUP reload: takes batch_max_bytes, batch_max_count and batch_max_delay
  // from `config`; the next batch uses them. Any thread.
  void update_settings(const Config& config);

 private:
  struct BatchLimits {
    std::size_t max_bytes;
    std::size_t max_count;
    std::chrono::microseconds max_delay;
  };
  using Records = std::span<std::unique_ptr<Record>>;

  // Writer thread.
  void run();  // thread entry: exceptions stop here
  void fail(const char* what);
  void loop();
  // Fills batch_ from incoming_ and the queue. True when batch_ holds a closed
  // batch; false when nothing arrived within the idle poll.
  bool collect_batch();
  // Moves records from incoming_ into batch_ while they fit; true when full.
  bool take_incoming(const BatchLimits& limits, std::size_t& batch_bytes);
  void write_until_answered(Records records);
  [[nodiscard]] PgResult<void> write_once(Records records);
  // One connection attempt; after a failure, sleeps the next backoff delay.
  bool connect_once();
  // Closes the connection; `kept` records in hand are logged as kept for a retry.
  void drop_connection(const PgError& why, std::size_t kept);
  // Calls on_done with `outcome`, counts it, then destroys the record.
  void answer(std::unique_ptr<Record>& slot, Outcome outcome);
  void answer_all_shutting_down();
  // Sleeps until `until`, or the stop deadline if earlier.
  void sleep_until(Clock::time_point until);
  Clock::duration next_backoff();

  // Owner thread: true once the writer thread has finished.
  bool wait_exited_until(Clock::time_point until);

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  Clock::time_point unavailable_since() const;
  Clock::time_point deadline() const;
  bool past_deadline() const;
  BatchLimits limits() const;

  const int id_;
  const std::string name_;  // "writer[1]", for log lines
  const std::string conninfo_;
  const Clock::duration reconnect_min_;
  const Clock::duration reconnect_max_;
  RecordQueue& queue_;
  Metrics& metrics_;
  Logger& log_;

  // Batch settings, each read on its own: a reload between two reads mixes
  // old and new values for one batch, which is harmless.
  std::atomic<std::size_t> max_bytes_;
  std::atomic<std::size_t> max_count_;
  std::atomic<std::int64_t> max_delay_us_;

  // Set by request_stop(): deadline_ns_ first, then stopping_ with release;
  // read with acquire on stopping_ before deadline_ns_ (a steady_clock count).
  std::atomic<bool> stopping_{false};
  std::atomic<Clock::rep> deadline_ns_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> failed_{false};
  // steady_clock counts for disconnected_for() and unsettled_unavailable();
  // written by the writer thread, read anywhere (a scrape may be a moment off).
  std::atomic<Clock::rep> disconnected_since_ns_{0};
  std::atomic<Clock::rep> unavailable_since_ns_{0};
  const FailureCallback on_failure_;

  // Wakes the writer from a backoff sleep when stop is requested, and the
  // owner from stop() when the thread has finished. Guards exited_.
  Mutex wake_mu_;
  std::condition_variable_any wake_cv_;
  bool exited_ XRAY_GUARDED_BY(wake_mu_) = false;

  Mutex cancel_mu_;
  std::unique_ptr<PgCanceler> canceler_ XRAY_GUARDED_BY(cancel_mu_);

  std::thread thread_;

  // Writer thread only.
  std::unique_ptr<PgConnection> conn_;
  // Popped but not yet in a batch: they did not fit the previous one's bytes.
  std::vector<std::unique_ptr<Record>> incoming_;
  std::vector<std::unique_ptr<Record>> batch_;
  bool ever_connected_ = false;
  Clock::duration backoff_{};
  std::minstd_rand jitter_;
};

// Answers every record still in `queue` with Errc::kShuttingDown, counting
// each as failed, and returns how many. For the owner after every writer has
// stopped (invariant 8: even if all writers died, every record is answered).
std::size_t answer_queued_as_shutting_down(RecordQueue& queue, Metrics& metrics);

}  // namespace xrayd
