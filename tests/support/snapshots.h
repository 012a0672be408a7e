// Realistic snapshot JSON for tests: a competitor-selection execution with a
// keyword step, a search step, a filter step with per-candidate evaluations
// and specific reasons, a ranking step and a selection step (DESIGN §3).
#pragma once

#include <string>

namespace xray::testing {

struct SnapshotSpec {
  std::string id = "0192f1c2-7c1e-7a4b-9d7e-5f0c3a9b1e22";
  std::string app = "shopping-assistant";
  std::string pipeline = "competitor-selection";
  std::string status = "completed";
  int candidates = 8;  // evaluations in the filter step
  std::string reasoning = "dropped candidates outside the price band";
  int extra_steps = 0;  // padding steps, to test max_steps
};

std::string make_snapshot(const SnapshotSpec& spec);

// Convenience: make_snapshot with only the id changed.
std::string make_snapshot(const std::string& id);

}  // namespace xray::testing
