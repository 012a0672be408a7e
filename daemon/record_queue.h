// RecordQueue: the hand-off from io threads to writer threads, and the only
// includer of the lock-free queue (moodycamel BlockingConcurrentQueue).
//
// Records are admitted through the Budget first (invariant 2); push() then
// uses try_enqueue into preallocated blocks, so the queue never allocates
// without bound (STYLE §11.3). A full queue is answered busy like a full
// budget. depth() is an exact count kept beside the queue, because
// size_approx() is only an estimate and never a control signal.
//
// Threads: push() from any io thread; pop_bulk() from writer threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <concurrentqueue/blockingconcurrentqueue.h>

#include "daemon/record.h"

namespace xrayd {

// Each io thread is an implicit producer. try_enqueue never allocates, so a
// producer's block index must be big enough up front: with the default (32
// entries of 32 slots) one io thread could hold only ~1,000 queued records.
// 4,096 entries of 256 slots lets one producer hold up to 1M records, which
// the capacity clamp in service.cc never exceeds.
struct RecordQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  static const std::size_t BLOCK_SIZE = 256;
  static const std::size_t IMPLICIT_INITIAL_INDEX_SIZE = 4096;
};

class RecordQueue {
 public:
  // `capacity` records fit without allocating; push() fails beyond it.
  explicit RecordQueue(std::size_t capacity)
      : queue_(capacity, 0, kMaxImplicitProducers), capacity_(capacity) {}
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;
  ~RecordQueue() {
    // Records left here were never acknowledged; destroying them releases
    // their budget. Service drains the queue before this runs (invariant 8).
    Record* r = nullptr;
    while (queue_.try_dequeue(r)) delete r;
  }

  // Any thread. Takes ownership on success; on failure (queue full) the
  // record is handed back untouched in `record` for the caller to refuse.
  [[nodiscard]] bool push(std::unique_ptr<Record>& record) {
    // Count the record before it becomes visible to a writer: a pop can then
    // never subtract first, so depth() never wraps below zero, and two pushes
    // cannot both pass the capacity check for the last slot.
    if (depth_.fetch_add(1, std::memory_order_relaxed) >= capacity_) {
      depth_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    Record* raw = record.get();
    if (!queue_.try_enqueue(raw)) {
      depth_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    record.release();
    return true;
  }

  // Writer thread. Waits up to `timeout` for the first record, then takes up
  // to `max` records that are ready, appending them to `out`. Returns how many.
  std::size_t pop_bulk(std::vector<std::unique_ptr<Record>>& out, std::size_t max,
                       std::chrono::microseconds timeout) {
    if (max == 0) return 0;
    scratch_.resize(max);
    std::size_t n = queue_.wait_dequeue_bulk_timed(scratch_.data(), max, timeout.count());
    for (std::size_t i = 0; i < n; ++i) out.emplace_back(scratch_[i]);
    depth_.fetch_sub(n, std::memory_order_relaxed);
    return n;
  }

  // Records pushed and not yet popped; a push in progress may already be
  // counted. Never an estimate like size_approx().
  std::size_t depth() const { return depth_.load(std::memory_order_relaxed); }
  std::size_t capacity() const { return capacity_; }

 private:
  static constexpr int kMaxImplicitProducers = 64;
  moodycamel::BlockingConcurrentQueue<Record*, RecordQueueTraits> queue_;
  const std::size_t capacity_;
  std::atomic<std::size_t> depth_{0};
  static thread_local std::vector<Record*> scratch_;
};

inline thread_local std::vector<Record*> RecordQueue::scratch_;

}  // namespace xrayd
