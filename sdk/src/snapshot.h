// The in-memory recording of one execution, and its serialisation into the
// snapshot JSON of DESIGN §3 (wire format v1). Pure: no I/O, no threads.
//
// Only the fields of §3 are written (the daemon rejects unknown ones), and
// optional fields that were never set are omitted rather than sent as null.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "xray/execution.h"
#include "xray/json.h"

namespace xray::sdk {

enum class StepStatus : std::uint8_t { kCompleted, kFailed, kSkipped };
enum class ExecutionStatus : std::uint8_t { kRunning, kCompleted, kFailed };

struct StepRecord {
  std::string name;
  StepStatus status = StepStatus::kCompleted;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms;
  Json input, output, filters, selection, metadata, error;
  std::optional<std::string> reasoning;
  std::vector<Evaluation> evaluations;
};

struct ExecutionRecord {
  std::string id;
  std::string pipeline;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> ended_ms;
  Json metadata, result, error;
  std::vector<StepRecord> steps;
};

struct SnapshotContext {
  std::string app;
  std::string environment;  // omitted when empty
};

// The snapshot JSON of `execution` with `status`.
std::string serialize_snapshot(const SnapshotContext& context, const ExecutionRecord& execution,
                               ExecutionStatus status);

}  // namespace xray::sdk
