// Core: what the application threads and the sender thread share — the
// configuration, the lock-free queue of finished snapshots, the memory
// account, the counters and the flush handshake. Owned jointly (shared_ptr)
// by the Client and every Execution, so that an Execution finished after its
// Client is gone still has somewhere safe to go (it is dropped and counted).
//
// Invariants:
//   1. memory_bytes() counts every serialised snapshot byte the SDK holds:
//      queued, in the sender's backlog, or in flight (memory or replayed).
//      submit() admits a snapshot only if it keeps the total within
//      memory_limit_bytes (invariant 6: bounded, and never blocking).
//   2. pending() counts snapshots handed over by the application and not yet
//      committed, rejected, spooled or dropped; flush() waits for it to be 0.
//
// Threads: submit(), counters() and flush() from any thread; the rest from the
// sender thread only. Nothing here does I/O on the caller's thread except
// flush(), whose purpose is to wait.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <concurrentqueue/concurrentqueue.h>

#include "snapshot.h"
#include "xray/client.h"

namespace xray::sdk {

struct AtomicCounters {
  std::atomic<std::uint64_t> recorded{0}, sent{0}, committed{0}, spooled{0}, replayed{0},
      dropped{0}, invalid{0}, spool_corrupt{0}, spool_bytes{0};
};

class Core {
 public:
  explicit Core(ClientConfig config);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  const ClientConfig& config() const { return config_; }
  const SnapshotContext& context() const { return context_; }

  // Any thread. Admits the snapshot into memory and queues it for the sender,
  // or counts it as dropped (memory limit, client closed). Never blocks.
  void submit(std::string&& snapshot) noexcept;

  // Any thread: see Client::flush.
  bool flush(std::chrono::milliseconds timeout);
  Counters counters() const;

  // --- sender thread only ---
  // Moves up to `max` queued snapshots into `out`; returns how many.
  std::size_t take(std::string* out, std::size_t max);
  // Account for bytes the sender holds or stops holding (invariant 1).
  void hold_memory(std::uint64_t bytes) { memory_bytes_.fetch_add(bytes); }
  void release_memory(std::uint64_t bytes) { memory_bytes_.fetch_sub(bytes); }
  std::uint64_t memory_bytes() const { return memory_bytes_.load(); }
  // `n` application snapshots reached a final place (invariant 2); wakes flushers at 0.
  void resolved(std::uint64_t n);
  std::uint64_t pending() const { return pending_.load(); }
  // The earliest time by which a waiting flush wants memory spilled, if any.
  std::optional<std::chrono::steady_clock::time_point> spill_deadline();
  // Drops counted by submit() since the last call (the sender logs them).
  std::uint64_t take_memory_drops() { return memory_drops_.exchange(0); }
  // Readable when flush() or close() wants the sender's attention.
  int wake_fd() const { return wake_fd_; }
  void wake();
  void clear_wake();
  // After this, submit() drops: the sender is going away.
  void close() { closed_.store(true); }
  void log(LogLevel level, std::string_view message) const;

  AtomicCounters counters_;

 private:
  const ClientConfig config_;
  const SnapshotContext context_;
  moodycamel::ConcurrentQueue<std::string> queue_;
  std::atomic<std::uint64_t> memory_bytes_{0};
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<std::uint64_t> memory_drops_{0};
  std::atomic<bool> closed_{false};
  int wake_fd_ = -1;

  std::mutex flush_mu_;  // never held across I/O
  std::condition_variable flush_cv_;
  std::multiset<std::chrono::steady_clock::time_point> spill_at_;  // guarded by flush_mu_
  std::atomic<int> flushers_{0};
};

// The state behind an Execution and its Steps (execution.h).
struct ExecutionState {
  std::shared_ptr<Core> core;
  ExecutionRecord record;
  bool finished = false;
};

}  // namespace xray::sdk
