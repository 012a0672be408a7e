// The hand-off of one Record from an io thread to a writer thread through the
// RecordQueue (daemon/record_queue.h). Baseline in the same binary: making and
// destroying a Record on one thread, which every snapshot pays anyway (a
// session makes it, a writer destroys it after the ack).
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "daemon/record.h"
#include "daemon/record_queue.h"

namespace {

using xrayd::Record;
using xrayd::RecordQueue;

// Baseline: new + delete of an empty Record on one thread.
void BM_Record_NewDelete(benchmark::State& state) {
  for (auto _ : state) {
    auto r = std::make_unique<Record>();
    benchmark::DoNotOptimize(r.get());
  }
  state.SetItemsProcessed(state.iterations());
}

// One thread pushes a record and pops it again: the queue's own cost without
// any contention or waiting.
void BM_RecordQueue_PushPop(benchmark::State& state) {
  RecordQueue queue(4096);
  std::vector<std::unique_ptr<Record>> out;
  out.reserve(1);
  auto r = std::make_unique<Record>();
  for (auto _ : state) {
    if (!queue.push(r)) state.SkipWithError("queue full");
    queue.pop_bulk(out, 1, std::chrono::microseconds(0));
    r = std::move(out.back());
    out.clear();
  }
  state.SetItemsProcessed(state.iterations());
}

// Producer/consumer, as in the daemon: this thread makes records and pushes
// them (retrying while the queue is full); a consumer thread takes up to
// `range(0)` at a time, as a writer does (batch_max_count), and destroys them.
void BM_RecordQueue_HandOff(benchmark::State& state) {
  const auto bulk = static_cast<std::size_t>(state.range(0));
  RecordQueue queue(16384);
  std::atomic<bool> done{false};
  std::thread consumer([&] {
    std::vector<std::unique_ptr<Record>> got;
    got.reserve(bulk);
    // Relaxed: a stop hint; the records themselves travel through the queue.
    while (!done.load(std::memory_order_relaxed) || queue.depth() > 0) {
      queue.pop_bulk(got, bulk, std::chrono::milliseconds(1));
      got.clear();
    }
  });
  for (auto _ : state) {
    auto r = std::make_unique<Record>();
    while (!queue.push(r)) std::this_thread::yield();
  }
  done.store(true, std::memory_order_relaxed);
  consumer.join();
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Record_NewDelete);
BENCHMARK(BM_RecordQueue_PushPop);
BENCHMARK(BM_RecordQueue_HandOff)->Arg(1)->Arg(500)->UseRealTime();

}  // namespace
