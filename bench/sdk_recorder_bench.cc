// The SDK's cost on the application's thread (DESIGN §8): recording one
// ~1 KB step, and complete() of a 5-step execution (serialise + hand-off).
// The client points at no daemon and has no spool, so the sender thread only
// counts drops and the figures are the caller's side alone.
//
//   cmake -B build-release -DCMAKE_BUILD_TYPE=Release && ninja -C build-release sdk_recorder_bench
//   build-release/bench/sdk_recorder_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only
#include <chrono>
#include <string>

#include <benchmark/benchmark.h>

#include "xray/recorder.h"

namespace {

xray::ClientConfig bench_config() {
  xray::ClientConfig c;
  c.socket_path = "/nonexistent/xrayd.sock";
  c.app = "bench";
  c.memory_limit_bytes = 1ull << 30;
  return c;
}

// Fixed inputs of a filter step; about 1 KB once serialised.
const xray::Json& step_input() {
  static const xray::Json kInput = {
      {"keywords", {"laptop stand", "adjustable laptop stand", "aluminum laptop riser"}},
      {"candidates",
       {{{"id", "B0C1234567"},
         {"title", "Nulaxy Adjustable Aluminum Laptop Stand"},
         {"price", 32.99}},
        {{"id", "B0C2345678"}, {"title", "Rain Design mStand Laptop Stand"}, {"price", 44.99}},
        {{"id", "B0C3456789"}, {"title", "OMOTON Foldable Laptop Riser"}, {"price", 21.99}},
        {{"id", "B0C4567890"}, {"title", "Spigen Slim iPhone 15 Case"}, {"price", 12.99}}}}};
  return kInput;
}
const xray::Json& step_filters() {
  static const xray::Json kFilters = {
      {"price", {{"min", 19.79}, {"max", 46.19}}},
      {"minRating", 4.0},
      {"minReviews", 100},
      {"category", {{"mode", "department"}, {"department", "Electronics"}}}};
  return kFilters;
}

void record_step(xray::Execution& run) {
  xray::Step step = run.step("apply_filters");
  step.input(step_input()).filters(step_filters());
  step.evaluate({.id = "B0C1234567", .passed = true, .scores = {{"rating", 4.6}}});
  step.evaluate({.id = "B0C2345678", .passed = false, .reasons = {"price 44.99 > 40.00"}});
  step.evaluate(
      {.id = "B0C4567890",
       .passed = false,
       .reasons = {"category 'Cell Phone Cases' outside 'Laptop Stands'", "rating 3.8 < 4.0"}});
  step.output({{"kept", 2}, {"dropped", 2}})
      .reasoning("kept 2 of 4; 1 failed price; 1 failed category");
}

// Recording one step: start, set input/filters/output, three evaluations, end.
void BM_Sdk_RecordStep(benchmark::State& state) {
  xray::Client client(bench_config());
  xray::Execution run = client.start_execution("bench");
  int steps = 0;
  for (auto _ : state) {
    record_step(run);
    if (++steps == 64) {  // keep executions a realistic size
      state.PauseTiming();
      run.complete();
      run = client.start_execution("bench");
      steps = 0;
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sdk_RecordStep);

// complete() of a 5-step execution: serialise the snapshot and enqueue it.
void BM_Sdk_Complete(benchmark::State& state) {
  xray::Client client(bench_config());
  for (auto _ : state) {
    xray::Execution run = client.start_execution("bench", {{"productId", "B0C1234567"}});
    for (int i = 0; i < state.range(0); ++i) record_step(run);
    auto start = std::chrono::steady_clock::now();
    run.complete({{"selected", "B0C1234567"}});
    auto end = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sdk_Complete)->Arg(5)->UseManualTime();

// For scale: serialising the same step's JSON alone.
void BM_Json_DumpStepInput(benchmark::State& state) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = step_input().dump();
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_Json_DumpStepInput);

}  // namespace
