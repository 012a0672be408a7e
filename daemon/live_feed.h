// LiveFeed: the source of the live stream. One thread with one PostgreSQL
// connection LISTENs on the writers' commit channel (daemon/commit_notice.h),
// fetches a summary of each committed execution and publishes it to the
// StreamHub as a Server-Sent Event.
//
// The feed fetches on its own connection rather than through the QueryPool:
// a pool saturated by heavy queries must not delay or drop live events, and
// the fetch is one small indexed lookup per notice. It fetches only while
// someone subscribes. Notices from every xrayd writing the same database
// arrive here, so the stream shows all of them.
//
// Best-effort, like the stream: if the connection is lost, notices sent
// meanwhile are gone; the feed reconnects with backoff (reconnect_min
// doubling to reconnect_max) and tells every subscriber that it may have
// missed events (StreamHub::publish_gap), as it does when a fetch fails.
//
// Threads: constructor, start(), stop() and the destructor on the owner's
// thread; listening() anywhere; the feed runs on "xrayd-live-feed".
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/pg_connection.h"
#include "daemon/stream_hub.h"

namespace xrayd {

class LiveFeed {
 public:
  struct Options {
    std::string conninfo;
    std::chrono::milliseconds statement_timeout{5'000};
    std::chrono::milliseconds reconnect_min{100};
    std::chrono::milliseconds reconnect_max{10'000};
  };

  // `hub`, `metrics` and `log` must outlive the feed.
  LiveFeed(Options options, StreamHub& hub, Metrics& metrics, Logger& log);
  ~LiveFeed();  // stop()
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // Starts the thread, which connects and LISTENs. Call once.
  void start();
  // Wakes the thread and waits for it to end (a fetch in progress ends within
  // statement_timeout). Idempotent.
  void stop();

  // True while the feed holds a LISTENing connection. Any thread.
  bool listening() const { return listening_.load(std::memory_order_relaxed); }

 private:
  void run();  // thread entry
  // Connects and LISTENs; null after a failure (logged).
  std::unique_ptr<PgConnection> connect();
  // Fetches the summaries of `pairs` and publishes them; false if the fetch failed.
  bool publish(PgConnection& conn, const std::vector<std::pair<std::string, std::string>>& pairs);
  // Waits until `fd` is readable, the stop event fires or `timeout` passes.
  void wait(int fd, std::chrono::milliseconds timeout);

  const Options options_;
  StreamHub& hub_;
  Metrics& metrics_;
  Logger& log_;
  int wake_fd_ = -1;  // eventfd: stop() writes, the thread polls
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace xrayd
