// Metrics: the daemon's own counters, gauges and histograms, rendered in the
// Prometheus text exposition format for GET /metrics.
//
// One Metrics object is built by service.cc and passed by reference to each
// component (no global). Every member is an atomic or a Histogram of atomics,
// so any thread may update any of them without a lock; render() reads them
// with relaxed loads (a scrape is a snapshot that may be a few events off).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace xrayd {

using Counter = std::atomic<std::uint64_t>;
using Gauge = std::atomic<std::int64_t>;

// Cumulative histogram with fixed upper bounds (Prometheus `le` buckets).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  void observe_seconds(std::chrono::steady_clock::duration d) {
    observe(std::chrono::duration<double>(d).count());
  }
  // Appends # TYPE and the _bucket/_sum/_count lines for `name`.
  void render(std::string& out, const std::string& name, const std::string& help) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::vector<Counter> buckets_;  // per bound, non-cumulative; render() accumulates
  Counter count_{0};
  std::atomic<double> sum_{0.0};
};

// The explorer's endpoints and the outcomes of their requests: the labels of
// xray_explorer_queries_total.
enum class ExplorerEndpoint : std::size_t {
  kExecutions,        // GET /v1/executions
  kExecution,         // GET /v1/executions/{app}/{id}
  kQuery,             // POST /v1/query
  kEliminations,      // GET /v1/insights/eliminations
  kFailedCandidates,  // GET /v1/insights/failed-candidates
  kPipelines,         // GET /v1/pipelines
  kShape,             // GET /v1/steps/shape
  kAnalytics,         // GET /v1/analytics/pipeline
  kStream,            // GET /v1/stream (the subscription itself)
  kLiveFeed,          // the live feed's own fetches of committed executions
};
inline constexpr std::size_t kExplorerEndpoints = 10;

enum class ExplorerOutcome : std::size_t {
  kOk,           // 2xx
  kBadRequest,   // 400, 405, 413, 415
  kNotFound,     // 404
  kBusy,         // 503: query queue full or waited too long, too many streams
  kUnavailable,  // 503: no PostgreSQL connection; shutting down
  kTimeout,      // 504: statement_timeout
  kFailed,       // 500: PostgreSQL failed the query otherwise (see the log)
};
inline constexpr std::size_t kExplorerOutcomes = 7;

const char* label(ExplorerEndpoint e);
const char* label(ExplorerOutcome o);

// Values that live elsewhere (Budget, RecordQueue, writers) and are read at scrape time.
struct ScrapeGauges {
  std::int64_t bytes_held = 0;
  std::int64_t bytes_peak = 0;
  std::int64_t memory_limit = 0;
  std::int64_t queue_depth = 0;
  std::int64_t writers_connected = 0;
  std::int64_t writers_total = 0;
  bool ready = false;  // what GET /readyz answers now
  // The explorer's query pool; all 0 when the explorer is disabled.
  std::int64_t query_queue_depth = 0;
  std::int64_t query_connections = 0;      // pool threads with a live connection
  std::int64_t query_connections_max = 0;  // query_connections
  // Since the last connected writer lost PostgreSQL; 0 while one is connected.
  std::int64_t pg_outage_ms = 0;
  // Writer-time without a connection not yet settled into Metrics::pg_unavailable_ms.
  std::int64_t pg_unavailable_live_ms = 0;
  // The shutdown drain so far, or its total once over; 0 before shutdown.
  std::int64_t drain_ms = 0;
};

struct Metrics {
  Metrics();

  // Ingest.
  Counter received_http{0};         // snapshots parsed from HTTP bodies (valid or not)
  Counter received_uds{0};          // snapshot frames read from the Unix socket
  Counter committed{0};             // snapshots in a committed transaction
  Counter invalid{0};               // refused by validation (400 / invalid ack)
  Counter rejected_by_database{0};  // rows PostgreSQL refused (invariant 5)
  Counter failed{0};                // answered with a transient failure (shutdown, db away)
  Counter refused_memory{0};        // refused because the budget was full (invariant 3)
  Counter refused_queue_full{0};    // refused because the record queue's capacity was full
  Counter refused_connections{0};   // connections closed at once: max_connections
  Counter refused_shutdown{0};      // refused because the daemon is stopping
  Counter body_too_large{0};        // bodies/frames over max_body_bytes
  Counter timeouts_header{0};       // connections closed: header deadline
  Counter timeouts_body{0};         // connections closed: body deadline
  Counter timeouts_idle{0};         // keep-alive connections closed when idle
  Counter connections_accepted{0};
  Gauge connections_open{0};
  Gauge uds_frames_inflight{0};
  Gauge bodies_in_progress{0};           // bodies/frames admitted and being read (shutdown waits)
  Counter uds_reads_paused_memory{0};    // Unix-socket reads paused after a busy refusal
  Counter uds_reads_paused_inflight{0};  // ... paused at max_inflight_frames

  // Writers and PostgreSQL.
  Counter batches{0};
  Counter batch_retries{0};  // batches retried after a retryable error
  Counter pg_reconnects{0};  // successful reconnects after a lost connection
  Counter pg_connect_failures{0};
  Counter pg_unavailable_ms{0};  // writer-time without a connection, settled at each attempt
  Counter writer_exceptions{0};  // writer threads ended by an exception (a bug: see the log)
  Histogram batch_rows;          // snapshots per committed batch
  Histogram batch_bytes;         // encoded bytes per committed batch
  Histogram copy_seconds;        // COPY + merge + COMMIT duration per batch
  Histogram ack_seconds;         // first byte read → ack sent

  // The decision explorer.
  std::array<std::array<Counter, kExplorerOutcomes>, kExplorerEndpoints> explorer_requests{};
  Histogram explorer_query_seconds;  // request read → response ready, for query endpoints
  Gauge explorer_connections_open{0};
  Gauge stream_subscribers{0};
  Counter stream_events{0};          // events queued for subscribers
  Counter stream_events_dropped{0};  // events a lagging subscriber lost (its queue was full)
  Counter live_feed_reconnects{0};   // the live feed's LISTEN connection was re-established

  void count_request(ExplorerEndpoint endpoint, ExplorerOutcome outcome) {
    explorer_requests[static_cast<std::size_t>(endpoint)][static_cast<std::size_t>(outcome)]
        .fetch_add(1, std::memory_order_relaxed);
  }

  std::string render(const ScrapeGauges& gauges) const;
};

}  // namespace xrayd
