#include "daemon/metrics.h"

#include <cstdio>

namespace xrayd {
namespace {

void append_number(std::string& out, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  out += buf;
}

void counter(std::string& out, const char* name, const char* help, std::uint64_t value,
             const char* labels = nullptr) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " counter\n";
  out += name;
  if (labels != nullptr) out += labels;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void gauge(std::string& out, const char* name, const char* help, std::int64_t value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += " gauge\n";
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

std::uint64_t load(const Counter& c) { return c.load(std::memory_order_relaxed); }

}  // namespace

const char* label(ExplorerEndpoint e) {
  switch (e) {
    case ExplorerEndpoint::kExecutions:
      return "executions";
    case ExplorerEndpoint::kExecution:
      return "execution";
    case ExplorerEndpoint::kQuery:
      return "query";
    case ExplorerEndpoint::kEliminations:
      return "eliminations";
    case ExplorerEndpoint::kFailedCandidates:
      return "failed_candidates";
    case ExplorerEndpoint::kPipelines:
      return "pipelines";
    case ExplorerEndpoint::kShape:
      return "shape";
    case ExplorerEndpoint::kAnalytics:
      return "analytics";
    case ExplorerEndpoint::kStream:
      return "stream";
    case ExplorerEndpoint::kLiveFeed:
      return "live_feed";
  }
  return "unknown";
}

const char* label(ExplorerOutcome o) {
  switch (o) {
    case ExplorerOutcome::kOk:
      return "ok";
    case ExplorerOutcome::kBadRequest:
      return "bad_request";
    case ExplorerOutcome::kNotFound:
      return "not_found";
    case ExplorerOutcome::kBusy:
      return "busy";
    case ExplorerOutcome::kUnavailable:
      return "unavailable";
    case ExplorerOutcome::kTimeout:
      return "timeout";
    case ExplorerOutcome::kFailed:
      return "failed";
  }
  return "unknown";
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(bounds_.size() + 1) {}

void Histogram::observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name + "_bucket{le=\"";
    append_number(out, bounds_[i]);
    out += "\"} " + std::to_string(cumulative) + "\n";
  }
  cumulative += buckets_[bounds_.size()].load(std::memory_order_relaxed);
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative) + "\n";
  out += name + "_sum ";
  append_number(out, sum_.load(std::memory_order_relaxed));
  out += "\n" + name + "_count " + std::to_string(cumulative) + "\n";
}

Metrics::Metrics()
    : batch_rows({1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}),
      batch_bytes({4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864}),
      copy_seconds(
          {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      ack_seconds({0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
      explorer_query_seconds(
          {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}) {}

std::string Metrics::render(const ScrapeGauges& g) const {
  std::string out;
  out.reserve(8192);
  out +=
      "# HELP xray_snapshots_received_total Snapshots received, by transport.\n"
      "# TYPE xray_snapshots_received_total counter\n";
  out += "xray_snapshots_received_total{transport=\"http\"} " +
         std::to_string(load(received_http)) + "\n";
  out += "xray_snapshots_received_total{transport=\"uds\"} " + std::to_string(load(received_uds)) +
         "\n";
  counter(out, "xray_snapshots_committed_total", "Snapshots in a committed transaction.",
          load(committed));
  counter(out, "xray_snapshots_invalid_total", "Snapshots refused by validation.", load(invalid));
  counter(out, "xray_snapshots_rejected_total", "Snapshots whose rows PostgreSQL refused.",
          load(rejected_by_database));
  counter(out, "xray_snapshots_failed_total",
          "Snapshots answered with a transient failure (shutdown, database away).", load(failed));
  out +=
      "# HELP xray_refused_total Work refused, by reason.\n"
      "# TYPE xray_refused_total counter\n";
  out += "xray_refused_total{reason=\"memory\"} " + std::to_string(load(refused_memory)) + "\n";
  out += "xray_refused_total{reason=\"queue_full\"} " + std::to_string(load(refused_queue_full)) +
         "\n";
  out += "xray_refused_total{reason=\"connections\"} " + std::to_string(load(refused_connections)) +
         "\n";
  out += "xray_refused_total{reason=\"shutdown\"} " + std::to_string(load(refused_shutdown)) + "\n";
  out += "xray_refused_total{reason=\"body_too_large\"} " + std::to_string(load(body_too_large)) +
         "\n";
  out +=
      "# HELP xray_timeouts_total Connections closed by a deadline, by phase.\n"
      "# TYPE xray_timeouts_total counter\n";
  out += "xray_timeouts_total{phase=\"header\"} " + std::to_string(load(timeouts_header)) + "\n";
  out += "xray_timeouts_total{phase=\"body\"} " + std::to_string(load(timeouts_body)) + "\n";
  out += "xray_timeouts_total{phase=\"idle\"} " + std::to_string(load(timeouts_idle)) + "\n";
  counter(out, "xray_connections_accepted_total", "Client connections accepted.",
          load(connections_accepted));
  gauge(out, "xray_connections_open", "Client connections open now.",
        connections_open.load(std::memory_order_relaxed));
  gauge(out, "xray_uds_frames_inflight", "Unix-socket frames read and not yet acknowledged.",
        uds_frames_inflight.load(std::memory_order_relaxed));
  out +=
      "# HELP xray_uds_reads_paused_total Times a Unix-socket connection paused reading, by "
      "reason.\n# TYPE xray_uds_reads_paused_total counter\n";
  out += "xray_uds_reads_paused_total{reason=\"memory\"} " +
         std::to_string(load(uds_reads_paused_memory)) + "\n";
  out += "xray_uds_reads_paused_total{reason=\"inflight\"} " +
         std::to_string(load(uds_reads_paused_inflight)) + "\n";
  gauge(out, "xray_bytes_held", "Bytes held for snapshots between first byte and commit.",
        g.bytes_held);
  gauge(out, "xray_bytes_held_peak", "Highest xray_bytes_held since start.", g.bytes_peak);
  gauge(out, "xray_memory_limit_bytes", "The configured memory_limit.", g.memory_limit);
  gauge(out, "xray_queue_depth", "Records waiting for a writer.", g.queue_depth);
  gauge(out, "xray_writers_connected", "Writers with a live PostgreSQL connection.",
        g.writers_connected);
  gauge(out, "xray_writers", "Writer threads.", g.writers_total);
  gauge(out, "xray_ready", "1 when GET /readyz answers 200 (a writer is connected, not stopping).",
        g.ready ? 1 : 0);
  counter(out, "xray_batches_total", "Batches committed.", load(batches));
  counter(out, "xray_batch_retries_total", "Batches retried after a retryable error.",
          load(batch_retries));
  counter(out, "xray_pg_reconnects_total", "PostgreSQL reconnects after a lost connection.",
          load(pg_reconnects));
  counter(out, "xray_pg_connect_failures_total", "Failed PostgreSQL connection attempts.",
          load(pg_connect_failures));
  counter(out, "xray_writer_exceptions_total", "Writer threads ended by an exception.",
          load(writer_exceptions));
  out +=
      "# HELP xray_pg_unavailable_seconds_total Writer-seconds spent without a connection.\n"
      "# TYPE xray_pg_unavailable_seconds_total counter\nxray_pg_unavailable_seconds_total ";
  append_number(out, static_cast<double>(static_cast<std::int64_t>(load(pg_unavailable_ms)) +
                                         g.pg_unavailable_live_ms) /
                         1000.0);
  out +=
      "\n# HELP xray_pg_outage_seconds Seconds since the last connected writer lost "
      "PostgreSQL; 0 while any writer is connected.\n"
      "# TYPE xray_pg_outage_seconds gauge\nxray_pg_outage_seconds ";
  append_number(out, static_cast<double>(g.pg_outage_ms) / 1000.0);
  out +=
      "\n# HELP xray_drain_seconds Time the shutdown drain has taken so far; 0 before "
      "shutdown.\n# TYPE xray_drain_seconds gauge\nxray_drain_seconds ";
  append_number(out, static_cast<double>(g.drain_ms) / 1000.0);
  out += "\n";
  batch_rows.render(out, "xray_batch_rows", "Snapshots per committed batch.");
  batch_bytes.render(out, "xray_batch_bytes", "Encoded bytes per committed batch.");
  copy_seconds.render(out, "xray_copy_duration_seconds", "COPY, merge and COMMIT time per batch.");
  ack_seconds.render(out, "xray_ack_latency_seconds", "Time from first byte read to ack.");

  out +=
      "# HELP xray_explorer_queries_total Explorer requests (queries and stream subscriptions), by "
      "endpoint and outcome.\n"
      "# TYPE xray_explorer_queries_total counter\n";
  for (std::size_t e = 0; e < kExplorerEndpoints; ++e) {
    for (std::size_t o = 0; o < kExplorerOutcomes; ++o) {
      out += "xray_explorer_queries_total{endpoint=\"";
      out += label(static_cast<ExplorerEndpoint>(e));
      out += "\",outcome=\"";
      out += label(static_cast<ExplorerOutcome>(o));
      out += "\"} " + std::to_string(load(explorer_requests[e][o])) + "\n";
    }
  }
  explorer_query_seconds.render(out, "xray_explorer_query_duration_seconds",
                                "Explorer query time, request read to response ready.");
  gauge(out, "xray_explorer_query_queue_depth", "Explorer queries waiting for a pool connection.",
        g.query_queue_depth);
  gauge(out, "xray_explorer_query_connections",
        "Explorer query threads with a live PostgreSQL connection.", g.query_connections);
  gauge(out, "xray_explorer_query_connections_max", "The configured query_connections.",
        g.query_connections_max);
  gauge(out, "xray_explorer_connections_open", "Explorer HTTP connections open now.",
        explorer_connections_open.load(std::memory_order_relaxed));
  gauge(out, "xray_stream_subscribers", "Live-stream (SSE) subscribers now.",
        stream_subscribers.load(std::memory_order_relaxed));
  counter(out, "xray_stream_events_total", "Live-stream events queued for subscribers.",
          load(stream_events));
  counter(out, "xray_stream_events_dropped_total",
          "Live-stream events lost by lagging subscribers (their queue was full).",
          load(stream_events_dropped));
  counter(out, "xray_live_feed_reconnects_total",
          "Times the live feed re-established its LISTEN connection.", load(live_feed_reconnects));
  return out;
}

}  // namespace xrayd
