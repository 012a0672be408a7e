#include "daemon/ingest.h"

#include <memory>

#include <boost/json/storage_ptr.hpp>

#include "daemon/budget_resource.h"
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
  const auto refuse_busy = [&](std::string message, std::string app, std::string id) {
    // Invariant 3: refused, never dropped: the client is told to retry.
    metrics_.refused_memory.fetch_add(1, std::memory_order_relaxed);
    done({xray::Errc::kBusy, std::move(message), "memory_limit", std::move(app), std::move(id)});
  };
  // Invariant 2: the parsed document, several times the size of its text,
  // is taken from the budget block by block as it is built, and given back
  // when `parsed` goes at the end of this function (declared after
  // `document_lease`, so destroyed before it).
  BudgetResource document_lease(budget_);
  auto parsed = parse_snapshot(json, limits, boost::json::storage_ptr(&document_lease));
  if (!parsed) {
    const xray::InputError& e = parsed.error();
    if (e.code == xray::Errc::kBusy) {
      refuse_busy(e.message, "", "");
      return;
    }
    metrics_.invalid.fetch_add(1, std::memory_order_relaxed);
    log_.debug("ingest", "invalid snapshot: ", e.message);
    done({e.code, e.message, e.field, "", ""});
    return;
  }
  // Invariant 2: the parser's views, and the COPY rows about to be encoded
  // (estimated now, exact below), are held beside the document: take them
  // before encoding, so the peak of this snapshot's life is accounted too.
  std::optional<Lease> lease;
  if (document_lease.charge(view_bytes(*parsed))) {
    lease = budget_.try_acquire(json.size() + json.size() / 2 + 1024);
  }
  if (!lease) {
    refuse_busy("over memory budget (memory_limit); retry later", std::string(parsed->app),
                std::string(parsed->id));
    return;
  }
  auto record = std::make_unique<Record>();
  encode_snapshot(*parsed, *record);
  record->received_at = received_at;
  record->trim();
  // The encoded rows are held until commit; the body they came from is
  // released by the caller, the document at the end of this function.
  const std::size_t held = record->held_bytes();
  if (held > lease->bytes() && !budget_.try_grow(*lease, held - lease->bytes())) {
    refuse_busy("over memory budget (memory_limit); retry later", record->app, record->id);
    return;
  }
  lease->shrink_to(held);
  record->lease = std::move(*lease);
  std::string app = record->app;
  std::string id = record->id;
  auto shared_done = std::make_shared<ResultCallback>(std::move(done));
  record->on_done = [this, shared_done, app, id, received_at](Outcome outcome) {
    // Writer thread (which counts the outcome itself).
    metrics_.ack_seconds.observe_seconds(std::chrono::steady_clock::now() - received_at);
    (*shared_done)({outcome.error, std::move(outcome.message), "", app, id});
  };
  if (!queue_.push(record)) {
    // The queue's preallocated capacity is full: refuse like a full budget.
    metrics_.refused_queue_full.fetch_add(1, std::memory_order_relaxed);
    record.reset();
    (*shared_done)({xray::Errc::kBusy, "queue full; retry later", "memory_limit", app, id});
  }
}

}  // namespace xrayd
