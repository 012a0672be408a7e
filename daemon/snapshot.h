// Snapshot: one validated execution snapshot (wire format v1, DESIGN.md §3).
//
// parse_snapshot() (daemon/snapshot_parser.h) builds it from JSON text and
// encode_snapshot() (daemon/encoder.h) turns it into COPY rows. A Snapshot
// owns its parsed JSON document; every string_view and pointer in it points
// into that document, so they live exactly as long as the Snapshot.
//
// Invariants, established by the parser and relied on by the encoder:
//   1. Every string (value or key) anywhere in the document is valid UTF-8,
//      at most max_string_bytes long and free of U+0000, so PostgreSQL can
//      store it in text, text[], json and jsonb.
//   2. Every number is finite (JSON has no Infinity or NaN; PostgreSQL neither).
//   3. Free-form pointers are null when the field is absent or JSON null;
//      a non-null pointer never points at a JSON null.
//   4. Timestamps lie in years 0001..9999 UTC, so they print as
//      YYYY-MM-DD HH:MM:SS.ffffff+00.
//
// Move-only: the document is held by pointer, so moving a Snapshot never
// moves or copies a JSON node and the views stay valid; a copy would point
// into the original. (boost::json::value's own move assignment copies when
// the memory resources differ, which is why the document is not held by
// value.) A Snapshot is a plain value with no synchronisation: one thread at
// a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "daemon/timestamp.h"

namespace xrayd {

enum class ExecutionStatus { kRunning, kCompleted, kFailed };
enum class StepStatus { kCompleted, kFailed, kSkipped };

// The wire (and database) spelling: "running", "completed", …
std::string_view status_name(ExecutionStatus status);
std::string_view status_name(StepStatus status);

// One evaluated candidate of a step.
struct Evaluation {
  std::string_view candidate_id;                // an integer id arrives as its decimal text
  std::optional<bool> passed;                   // nullopt: not decided / JSON null
  const boost::json::array* reasons = nullptr;  // every element is a string
  const boost::json::object* scores = nullptr;
  const boost::json::object* metadata = nullptr;
};

// One step; its index is its position in Snapshot::steps.
struct Step {
  std::string_view name;
  StepStatus status = StepStatus::kCompleted;
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> ended_at;
  const boost::json::value* input = nullptr;
  const boost::json::value* output = nullptr;
  const boost::json::object* filters = nullptr;
  std::vector<Evaluation> evaluations;
  const boost::json::value* selection = nullptr;
  std::optional<std::string_view> reasoning;
  const boost::json::object* metadata = nullptr;
  const boost::json::value* error = nullptr;
};

struct Snapshot {
  Snapshot() = default;
  Snapshot(Snapshot&&) noexcept = default;
  Snapshot& operator=(Snapshot&&) noexcept = default;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() = default;

  std::string_view id;  // with app: the idempotency key (invariant 4)
  std::string_view app;
  std::string_view pipeline;
  std::optional<std::string_view> environment;
  ExecutionStatus status = ExecutionStatus::kCompleted;
  Timestamp started_at{};
  std::optional<Timestamp> ended_at;
  const boost::json::object* metadata = nullptr;
  const boost::json::value* result = nullptr;
  const boost::json::value* error = nullptr;
  std::vector<Step> steps;

  // What the views above point into; it shares ownership of its memory resource.
  std::unique_ptr<boost::json::value> document;
};

inline std::string_view status_name(ExecutionStatus status) {
  switch (status) {
    case ExecutionStatus::kRunning:
      return "running";
    case ExecutionStatus::kCompleted:
      return "completed";
    case ExecutionStatus::kFailed:
      return "failed";
  }
  return "completed";
}

inline std::string_view status_name(StepStatus status) {
  switch (status) {
    case StepStatus::kCompleted:
      return "completed";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "completed";
}

}  // namespace xrayd
