// QueryPool: the explorer's own PostgreSQL connections — query_connections
// threads, each owning one connection that no writer ever uses — and a
// bounded queue of jobs for them.
//
// A job is a plain function that runs on a pool thread with that thread's
// connection. Nothing here blocks the caller: submit() queues (or refuses at
// once when the queue is full), and async_query() completes on the caller's
// executor, so an io thread only ever waits asynchronously (STYLE §11.2).
// Each connection is set up with statement_timeout = query timeout and
// default_transaction_read_only = on: a slow query ends with an error instead
// of holding its thread, and the explorer cannot write even by mistake.
//
// Isolation from ingestion: the writers have their own threads and
// connections; the pool never takes a lock that a writer needs (plain
// SELECTs take ACCESS SHARE locks, which COPY, INSERT and DELETE do not
// wait for); and its queue is bounded, so a flood of queries costs the
// daemon a fixed amount of memory and at most query_connections server
// backends. What they share is the server's CPU and disks
// (docs/benchmarks.md measures it).
//
// Connections: each thread connects at start; a thread without a connection
// tries again when a job arrives, at most once per backoff delay
// (reconnect_min doubling to reconnect_max); jobs that arrive meanwhile are
// answered kUnavailable at once rather than queued behind a dead server. A
// connection found broken (before or after a job) is dropped.
//
// The pool's own invariants:
//   1. Every submitted job is called exactly once: by a pool thread (kRun
//      with a connection, or kUnavailable / kExpired / kShuttingDown without
//      one) or, when refused, by submit() on the caller's thread (kBusy,
//      kShuttingDown).
//   2. At most max_queued jobs wait; a job that waited longer than the
//      statement timeout is answered kExpired instead of run.
//
// Threads: the constructor, start(), stop() and the destructor on the
// owner's thread (the service); submit(), queued() and connected() from any
// thread; jobs on the pool's threads ("xrayd-query-<n>").
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include "daemon/log.h"
#include "daemon/pg_connection.h"
#include "daemon/sync.h"

namespace xrayd {

class QueryPool {
 public:
  using Clock = std::chrono::steady_clock;

  enum class JobStatus {
    kRun,           // on a pool thread, with its connection
    kUnavailable,   // no connection to PostgreSQL now (answer 503, retry)
    kBusy,          // the queue is full (answer 503, retry)
    kExpired,       // waited in the queue past the statement timeout
    kShuttingDown,  // the pool is stopping
    kFailed,        // the work threw (a bug; logged)
  };

  // `conn` is non-null exactly when `status` is kRun. Must not block on
  // anything but its own use of `conn`; exceptions are caught and logged.
  using Job = std::function<void(PgConnection* conn, JobStatus status)>;

  struct Options {
    std::string conninfo;
    std::size_t connections = 2;
    std::chrono::milliseconds statement_timeout{5'000};
    std::size_t max_queued = 32;
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{10'000};
  };

  // `log` must outlive the pool.
  QueryPool(Options options, Logger& log);
  // Stops a running pool as stop(now) would.
  ~QueryPool();
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;

  // Starts the threads, which connect. Call once.
  void start();

  // Queues `job` for a pool thread, or calls it at once on this thread with
  // kBusy (queue full) or kShuttingDown (stopped). Any thread.
  void submit(Job job);

  // Stops taking jobs, answers every queued one kShuttingDown, lets running
  // jobs finish until `deadline` and then cancels their statements, and
  // joins the threads. Owner thread; blocks.
  void stop(Clock::time_point deadline);

  std::size_t queued() const;     // any thread
  std::size_t connected() const;  // threads holding a live connection; any thread

 private:
  struct Queued {
    Job job;
    Clock::time_point submitted;
  };
  struct Worker {
    int id = 0;
    std::thread thread;
    std::atomic<bool> exited{false};
    Mutex cancel_mu;
    std::unique_ptr<PgCanceler> canceler XRAY_GUARDED_BY(cancel_mu);
  };

  // Pool thread.
  void run(Worker& worker);
  // Connects (and sets the session up); null after a failure, logged once per outage.
  std::unique_ptr<PgConnection> connect(Worker& worker);
  void call(Job& job, PgConnection* conn, JobStatus status);

  const Options options_;
  Logger& log_;

  mutable Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Queued> queue_ XRAY_GUARDED_BY(mu_);
  bool stopping_ XRAY_GUARDED_BY(mu_) = false;

  std::atomic<std::size_t> connected_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Runs `work` on a pool thread with its connection and completes `token` with
// the result — never inline, always through the token's associated executor
// (a session's strand), which it keeps busy meanwhile. When the work cannot
// run (or throws), completes with `fallback(status)` instead. Signature of
// the completion: void(R).
template <class R, class Token>
auto async_query(QueryPool& pool, std::function<R(PgConnection&)> work,
                 std::function<R(QueryPool::JobStatus)> fallback, Token&& token) {
  auto initiation = [&pool](auto handler, std::function<R(PgConnection&)> work,
                            std::function<R(QueryPool::JobStatus)> fallback) {
    // Tracked, so the io_context does not run out of work while the job waits.
    auto executor = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                        boost::asio::execution::outstanding_work.tracked);
    // Job is a std::function and needs a copyable target; the handler is move-only.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    pool.submit([shared, executor, work = std::move(work), fallback = std::move(fallback)](
                    PgConnection* conn, QueryPool::JobStatus status) mutable {
      std::optional<R> result;
      if (conn != nullptr) {
        try {
          result.emplace(work(*conn));
        } catch (...) {
          result.emplace(fallback(QueryPool::JobStatus::kFailed));
        }
      } else {
        result.emplace(fallback(status));
      }
      boost::asio::post(executor, [shared, result = std::move(*result)]() mutable {
        std::move (*shared)(std::move(result));
      });
    });
  };
  return boost::asio::async_initiate<Token, void(R)>(initiation, token, std::move(work),
                                                     std::move(fallback));
}

}  // namespace xrayd
