// Ingest: what both transports do with the bytes of one snapshot.
//
//   admit(bytes)  before a body or frame is read: take its bytes from the
//                 Budget, or refuse (invariants 2 and 3);
//   submit(json)  parse + validate, encode the COPY rows, take the record's
//                 bytes from the Budget, and push it to the RecordQueue.
//
// `done` is called exactly once per submit(): synchronously, on the calling
// thread, when the snapshot is invalid, refused or the daemon is stopping;
// otherwise later from a writer thread after commit or rejection. It must not
// block; sessions post it to their strand. Counting (received, invalid,
// refused, committed…) happens here so both transports count alike.
//
// Threads: any io thread. Ingest holds no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/budget.h"
#include "daemon/errors.h"
#include "daemon/live_config.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/record.h"
#include "daemon/record_queue.h"

namespace xrayd {

enum class Transport { kHttp, kUds };

// Marks a body or frame as being read, so shutdown can wait for it to be
// submitted before refusing new snapshots (invariant 8). Strand-local RAII.
class BodyInProgress {
 public:
  explicit BodyInProgress(Metrics& metrics) : metrics_(metrics) {
    metrics_.bodies_in_progress.fetch_add(1, std::memory_order_relaxed);
  }
  ~BodyInProgress() { metrics_.bodies_in_progress.fetch_sub(1, std::memory_order_relaxed); }
  BodyInProgress(const BodyInProgress&) = delete;
  BodyInProgress& operator=(const BodyInProgress&) = delete;

 private:
  Metrics& metrics_;
};

// The answer for one snapshot, as both transports report it.
struct SnapshotResult {
  boost::system::error_code error;  // empty: committed
  std::string message;              // names the field or limit; empty when committed
  std::string field;                // the offending field or limit, when known
  std::string app;                  // when the snapshot parsed far enough to have them
  std::string id;
};

using ResultCallback = std::function<void(SnapshotResult)>;

class Ingest {
 public:
  // All references must outlive the Ingest and every callback it hands out.
  Ingest(const LiveConfig& config, Budget& budget, RecordQueue& queue, Metrics& metrics,
         Logger& log);
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  // Takes `bytes` from the budget for a body or frame about to be read.
  // nullopt: over memory_limit, answer busy (counted as refused_memory).
  std::optional<Lease> admit(std::size_t bytes);

  // Validates `json`, and either answers `done` at once (invalid, busy,
  // shutting down) or queues the record for a writer. `received_at` is when
  // the first byte of this snapshot was read (for ack latency).
  void submit(std::string_view json, Transport transport,
              std::chrono::steady_clock::time_point received_at, ResultCallback done);

  // After this, submit() answers kShuttingDown (invariant 8: stop accepting).
  void stop_accepting() { stopping_.store(true, std::memory_order_relaxed); }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

 private:
  const LiveConfig& config_;
  Budget& budget_;
  RecordQueue& queue_;
  Metrics& metrics_;
  Logger& log_;
  std::atomic<bool> stopping_{false};
};

}  // namespace xrayd
