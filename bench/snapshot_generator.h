// SnapshotGenerator: realistic competitor-selection executions as snapshot
// JSON (DESIGN.md §3, wire format v1), for xray-load and the benchmarks.
//
// Every execution has five steps: keyword_generation → candidate_search →
// filter_candidates (one evaluation per candidate, with reasons such as
// "price 49.99 > 40") → rank_candidates (score breakdowns for the survivors)
// → select_competitor (selection + reasoning). About 1 % of executions fail
// in their last step.
//
// Snapshot `index` is a pure function of (options, index): the same seed
// gives byte-identical JSON in any order, on any thread, in any run. Ids are
// UUIDv7-shaped (their time part is the execution's started_at, which grows
// with the index, so ids of one seed never collide); `run_prefix` keeps runs
// with the same seed apart in one database.
//
// Mean sizes (snapshot_generator_test prints them): 50 candidates ≈ 14 KB,
// 500 ≈ 119 KB, 5,000 ≈ 1.16 MB of JSON; about 2.6 KB per execution plus
// 233 bytes per candidate. The default mix averages about 20 KB.
//
// Thread-safety: generate(), candidates_for() and id_for() are const and share no
// mutable state, so any number of threads may call them on one generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xray::bench {

// One entry of the candidate-count mix: out of the sum of all weights,
// `weight` executions have about `candidates` candidates.
struct MixEntry {
  std::size_t candidates = 0;
  std::uint32_t weight = 0;
};

// Mostly ~50 candidates, a tail of 500 and a rare 5,000: "50:949,500:50,5000:1".
std::vector<MixEntry> default_mix();

// Parses "COUNT:WEIGHT[,COUNT:WEIGHT...]" or a single "COUNT" (weight 1).
// nullopt on a malformed list, a zero count or an all-zero weight.
std::optional<std::vector<MixEntry>> parse_mix(std::string_view text);

struct GeneratorOptions {
  std::uint64_t seed = 1;
  std::string app = "shopping-assistant";
  std::string pipeline = "competitor-selection";
  std::string environment = "bench";
  // When non-empty, ids are "<run_prefix>-<uuid>" so repeated runs with one
  // seed do not overwrite each other (they would: ingest is idempotent).
  std::string run_prefix;
  std::vector<MixEntry> mix = default_mix();
  // Each execution's count varies uniformly by up to this fraction either
  // way (0.2: a "50" is 40..60); 0 gives exact counts.
  double jitter = 0.2;
  // started_at of snapshot 0, in Unix epoch milliseconds; snapshot i starts
  // i * 50 ms later. Default 2026-11-22T10:00:00Z.
  std::int64_t base_time_ms = 1'795'341'600'000;
};

struct GeneratedSnapshot {
  std::string id;
  // Always begins with {"id":" and the id, unescaped when run_prefix has no
  // character JSON escapes (xray-load relies on this to reuse bodies).
  std::string json;
  std::size_t candidates = 0;   // candidates found by candidate_search
  std::size_t steps = 0;        // always 5
  std::size_t evaluations = 0;  // evaluations across all steps
  bool failed = false;          // execution status "failed"
};

class SnapshotGenerator {
 public:
  explicit SnapshotGenerator(GeneratorOptions options);

  // The snapshot with this index (see the determinism contract above).
  GeneratedSnapshot generate(std::uint64_t index) const;

  // The candidate count generate(index) uses, without building the JSON.
  std::size_t candidates_for(std::uint64_t index) const;

  // The id generate(index) gives, without building the JSON.
  std::string id_for(std::uint64_t index) const;

  const GeneratorOptions& options() const { return options_; }

 private:
  GeneratorOptions options_;
  std::uint64_t total_weight_ = 0;
};

}  // namespace xray::bench
