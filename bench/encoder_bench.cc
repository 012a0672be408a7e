// What the io threads spend per snapshot before it reaches the queue: parsing
// and validating its JSON (daemon/snapshot_parser.h) and encoding its COPY
// rows (daemon/encoder.h), for each size of xray-load's mix (~50, 500 and
// 5,000 candidates). Baselines in the same binary: Boost.JSON parsing alone
// (what any JSON service pays), and for the COPY escaping, appending the same
// bytes unescaped.
//
// Inputs come from the fixed-seed SnapshotGenerator; bytes processed are the
// snapshot's JSON bytes (or the escaped string's), so the rates compare
// directly with xray-load's and xray-ceiling's MB/s.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "bench/snapshot_generator.h"
#include "daemon/config.h"
#include "daemon/encoder.h"
#include "daemon/snapshot_parser.h"

namespace {

using xray::bench::GeneratorOptions;
using xray::bench::SnapshotGenerator;

// Snapshots cycled through, so that one document's branches are not all a
// predictor learns.
constexpr std::size_t kVariants = 8;

// kVariants snapshots of exactly `candidates` candidates each (seed 1).
const std::vector<std::string>& snapshots(std::size_t candidates) {
  static std::map<std::size_t, std::vector<std::string>> cache;
  auto& out = cache[candidates];
  if (out.empty()) {
    GeneratorOptions options;
    options.mix = {{candidates, 1}};
    options.jitter = 0;
    const SnapshotGenerator gen(options);
    for (std::size_t i = 0; i < kVariants; ++i) out.push_back(gen.generate(i).json);
  }
  return out;
}

xrayd::SnapshotLimits daemon_limits() {
  const xrayd::Config c;
  return {c.max_steps, c.max_evaluations, c.max_json_depth, c.max_string_bytes};
}

void set_bytes(benchmark::State& state, const std::vector<std::string>& inputs) {
  std::size_t bytes = 0;
  for (const auto& s : inputs) bytes += s.size();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes / inputs.size()));
  state.SetItemsProcessed(state.iterations());
  state.counters["json_bytes"] = static_cast<double>(bytes / inputs.size());
}

// Baseline: Boost.JSON's parser into a monotonic arena, as parse_snapshot uses it.
void BM_Json_Parse(benchmark::State& state) {
  const auto& inputs = snapshots(static_cast<std::size_t>(state.range(0)));
  std::size_t i = 0;
  for (auto _ : state) {
    boost::json::monotonic_resource arena;
    auto value = boost::json::parse(inputs[i++ % kVariants], &arena);
    benchmark::DoNotOptimize(value);
  }
  set_bytes(state, inputs);
}

void BM_SnapshotParser_ParseValidate(benchmark::State& state) {
  const auto& inputs = snapshots(static_cast<std::size_t>(state.range(0)));
  const auto limits = daemon_limits();
  std::size_t i = 0;
  for (auto _ : state) {
    auto parsed = xrayd::parse_snapshot(inputs[i++ % kVariants], limits);
    if (!parsed) state.SkipWithError(parsed.error().message.c_str());
    benchmark::DoNotOptimize(parsed);
  }
  set_bytes(state, inputs);
}

// Encoding alone, from snapshots parsed before the loop.
void BM_Encoder_Encode(benchmark::State& state) {
  const auto& inputs = snapshots(static_cast<std::size_t>(state.range(0)));
  const auto limits = daemon_limits();
  std::vector<xrayd::Snapshot> parsed;
  for (const auto& s : inputs) parsed.push_back(*xrayd::parse_snapshot(s, limits));
  std::size_t i = 0;
  for (auto _ : state) {
    xrayd::Record record;  // a fresh Record per snapshot, as a session makes one
    xrayd::encode_snapshot(parsed[i++ % kVariants], record);
    benchmark::DoNotOptimize(record);
  }
  set_bytes(state, inputs);
}

// The whole per-snapshot work of an io thread between the body and the queue.
void BM_Encoder_ParseValidateEncode(benchmark::State& state) {
  const auto& inputs = snapshots(static_cast<std::size_t>(state.range(0)));
  const auto limits = daemon_limits();
  std::size_t i = 0;
  for (auto _ : state) {
    auto parsed = xrayd::parse_snapshot(inputs[i++ % kVariants], limits);
    if (!parsed) state.SkipWithError(parsed.error().message.c_str());
    xrayd::Record record;
    xrayd::encode_snapshot(*parsed, record);
    benchmark::DoNotOptimize(record);
  }
  set_bytes(state, inputs);
}

BENCHMARK(BM_Json_Parse)->Arg(50)->Arg(500)->Arg(5000);
BENCHMARK(BM_SnapshotParser_ParseValidate)->Arg(50)->Arg(500)->Arg(5000);
BENCHMARK(BM_Encoder_Encode)->Arg(50)->Arg(500)->Arg(5000);
BENCHMARK(BM_Encoder_ParseValidateEncode)->Arg(50)->Arg(500)->Arg(5000);

// --- COPY escaping -----------------------------------------------------------

// `length` bytes of prose; with `special`, one in every 16 bytes is a tab,
// newline, carriage return or backslash (a dense case: real reasoning text
// has a few per paragraph).
std::string text(std::size_t length, bool special) {
  static constexpr char kProse[] =
      "price 49.99 > 40; rating 4.6 of 5, 1,204 reviews: kept for ranking (B0C9876). ";
  static constexpr char kSpecial[] = {'\t', '\n', '\r', '\\'};
  std::string s;
  for (std::size_t i = 0; i < length; ++i) {
    s.push_back(special && i % 16 == 15 ? kSpecial[(i / 16) % 4] : kProse[i % (sizeof kProse - 1)]);
  }
  return s;
}

// Baseline: the same bytes appended as they are.
void BM_String_Append(benchmark::State& state) {
  const std::string s = text(static_cast<std::size_t>(state.range(0)), false);
  std::string out;
  for (auto _ : state) {
    out.clear();
    out.append(s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_Encoder_EscapePlain(benchmark::State& state) {
  const std::string s = text(static_cast<std::size_t>(state.range(0)), false);
  std::string out;
  for (auto _ : state) {
    out.clear();
    xrayd::append_copy_text(out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_Encoder_EscapeSpecial(benchmark::State& state) {
  const std::string s = text(static_cast<std::size_t>(state.range(0)), true);
  std::string out;
  for (auto _ : state) {
    out.clear();
    xrayd::append_copy_text(out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

BENCHMARK(BM_String_Append)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_Encoder_EscapePlain)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_Encoder_EscapeSpecial)->Arg(64)->Arg(1024)->Arg(16384);

}  // namespace
