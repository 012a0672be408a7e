#include "daemon/ingest.h"

#include <memory>

#include "daemon/encoder.h"
#include "daemon/snapshot_parser.h"

namespace xrayd {

Ingest::Ingest(const LiveConfig& config, Budget& budget, RecordQueue& queue, Metrics& metrics,
               Logger& log)
    : config_(config), budget_(budget), queue_(queue), metrics_(metrics), log_(log) {}

std::optional<Lease> Ingest::admit(std::size_t bytes) {
  auto lease = budget_.try_acquire(bytes);
  // Invariant 3: over the budget we refuse before reading, never drop after.
  if (!lease) metrics_.refused_memory.fetch_add(1, std::memory_order_relaxed);
  return lease;
}

void Ingest::submit(std::string_view json, Transport transport,
                    std::chrono::steady_clock::time_point received_at, ResultCallback done) {
  (transport == Transport::kHttp ? metrics_.received_http : metrics_.received_uds)
      .fetch_add(1, std::memory_order_relaxed);
  if (stopping()) {
    metrics_.refused_shutdown.fetch_add(1, std::memory_order_relaxed);
    done({xray::Errc::kShuttingDown, "not stored: the daemon is shutting down; retry", "", "", ""});
    return;
  }
  auto config = config_.get();
  SnapshotLimits limits{config->max_steps, config->max_evaluations, config->max_json_depth,
                        config->max_string_bytes};
  auto parsed = parse_snapshot(json, limits);
  if (!parsed) {
    metrics_.invalid.fetch_add(1, std::memory_order_relaxed);
    const xray::InputError& e = parsed.error();
    log_.debug("ingest", "invalid snapshot: ", e.message);
    done({e.code, e.message, e.field, "", ""});
    return;
  }
  auto record = std::make_unique<Record>();
  encode_snapshot(*parsed, *record);
  record->received_at = received_at;

  // Invariant 2: the encoded rows are held until commit, so they are taken
  // from the budget too; the body they came from is released by the caller.
  auto lease = budget_.try_acquire(record->encoded_bytes());
  if (!lease) {
    metrics_.refused_memory.fetch_add(1, std::memory_order_relaxed);
    done({xray::Errc::kBusy, "over memory budget (memory_limit); retry later", "memory_limit",
          record->app, record->id});
    return;
  }
  record->lease = std::move(*lease);
  std::string app = record->app;
  std::string id = record->id;
  auto shared_done = std::make_shared<ResultCallback>(std::move(done));
  record->on_done = [this, shared_done, app, id, received_at](Outcome outcome) {
    // Writer thread. Counting happens here so both transports count alike.
    if (!outcome.error) {
      metrics_.committed.fetch_add(1, std::memory_order_relaxed);
    } else if (outcome.error == xray::Errc::kRejectedByDatabase) {
      metrics_.rejected_by_database.fetch_add(1, std::memory_order_relaxed);
    } else {
      metrics_.failed.fetch_add(1, std::memory_order_relaxed);
    }
    metrics_.ack_seconds.observe_seconds(std::chrono::steady_clock::now() - received_at);
    (*shared_done)({outcome.error, std::move(outcome.message), "", app, id});
  };
  if (!queue_.push(record)) {
    // The queue's preallocated capacity is full: refuse like a full budget.
    metrics_.refused_memory.fetch_add(1, std::memory_order_relaxed);
    record.reset();
    (*shared_done)({xray::Errc::kBusy, "queue full; retry later", "memory_limit", app, id});
  }
}

}  // namespace xrayd
