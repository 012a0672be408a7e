// The snapshot parser: JSON text → a validated Snapshot, or an InputError that
// names the offending field or limit (DESIGN.md §3).
//
// Pure: no I/O, no threads, no shared state; any thread may call it, any
// number at a time. Errors are values (STYLE.md §4); a bad snapshot fails
// alone (invariant 5).
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/storage_ptr.hpp>
#include <boost/system/result.hpp>

#include "daemon/errors.h"
#include "daemon/snapshot.h"

namespace xrayd {

// The per-snapshot limits of Config (same names, same meaning).
struct SnapshotLimits {
  std::size_t max_steps = 1000;
  std::size_t max_evaluations = 100'000;   // per step
  std::size_t max_json_depth = 64;         // nesting of arrays and objects; the root object is 1
  std::size_t max_string_bytes = 1 << 20;  // every string value and every object key
};

// Identifiers (id, app, pipeline, a step's name, a candidate's id) are keys of
// indexes; they must be non-empty and at most this long.
inline constexpr std::size_t kMaxIdentifierBytes = 200;

// Parses and validates one snapshot.
//
// The document's memory comes from `upstream` (the default heap when null),
// through a monotonic resource the document keeps alive; the daemon passes a
// BudgetResource (daemon/budget_resource.h) so the document is accounted.
// On success the Snapshot owns its document (see daemon/snapshot.h). Absent
// optional fields and JSON null are the same thing. Timestamps are RFC 3339
// strings (an offset or Z; fractional seconds are truncated to microseconds;
// a leap second :60 rolls into the next minute, as in PostgreSQL) or integer
// epoch milliseconds, and must fall in years 0001..9999 UTC. A duplicated
// object key keeps its last value, as jsonb does. Numbers are kept as
// Boost.JSON reads them: integers exact up to 64 bits, anything else as a
// double (so 123456789012345678901 and 0.1000000000000000055 are rounded).
//
// Errors (InputError::code, InputError::field):
//   kInvalidJson      "" — not JSON, invalid UTF-8 or trailing data; the
//                     message gives line, column, byte offset and reason.
//   kLimitExceeded    "max_steps" | "max_evaluations" | "max_json_depth" |
//                     "max_string_bytes"; the message names the field path too.
//   kBusy             "memory_limit" — `upstream` threw BudgetExhausted: the
//                     budget cannot hold the document now; retry later.
//   kInvalidSnapshot  the field path, e.g. "steps[2].evaluations[0].passed":
//                     missing, unknown, wrong type, bad value, U+0000, a number
//                     out of range. "" when the top level is not an object.
// Every message starts with the path (or is about the whole input) and says
// what was expected, e.g. "steps[2].evaluations[0].passed: expected a
// boolean, got a string".
[[nodiscard]] boost::system::result<Snapshot, xray::InputError> parse_snapshot(
    std::string_view json, const SnapshotLimits& limits, boost::json::storage_ptr upstream = {});

// Bytes the Snapshot's own vectors (steps, evaluations) hold beside its
// document, for the memory budget.
std::size_t view_bytes(const Snapshot& snapshot);

}  // namespace xrayd
