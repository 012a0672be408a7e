// The encoder: a validated Snapshot → the COPY rows of its execution, steps
// and evaluations, ready for the writer to load (DESIGN.md §2, §5).
//
// Rows are PostgreSQL COPY text format (the default: tab-separated, `\N` for
// NULL, backslash escapes) with the columns in exactly the order of
// daemon/copy_layout.h. They are UTF-8, so the loading connection's
// client_encoding must be UTF8. Mapping per column kind:
//   text         the string, COPY-escaped (\\ \n \r \t; other bytes raw)
//   timestamptz  YYYY-MM-DD HH:MM:SS.ffffff+00 (UTC)
//   json/jsonb   the value's compact JSON text (Boost.JSON), COPY-escaped
//   text[]       an array literal {"a","b"} with every element quoted and
//                `"` `\` backslash-escaped, then COPY-escaped
//   boolean      t / f
// An absent or null optional field is `\N`, except evaluations.reasons,
// which is NOT NULL and becomes `{}`. Per step, candidates_in is the number of
// evaluations and candidates_passed the number with passed == true; both are
// `\N` when the step has no evaluations.
//
// Pure: no I/O, no threads, no shared state; any thread may call it, any
// number at a time. It relies on the Snapshot invariants (daemon/snapshot.h):
// no U+0000, finite numbers, four-digit years.
#pragma once

#include <string>
#include <string_view>

#include "daemon/record.h"
#include "daemon/snapshot.h"

namespace xrayd {

// Sets out.app, out.id, out.running, out.execution_row, out.step_rows,
// out.evaluation_rows, out.step_count and out.evaluation_count from
// `snapshot`, replacing what they held (their capacity is reused). Leaves
// every other member of `out` (lease, callback, received_at) alone, so a
// session can fill a Record that already holds its budget lease. Cannot fail.
void encode_snapshot(const Snapshot& snapshot, Record& out);

// Appends `text` to `out` escaped for one column of COPY text format (the
// text rule above: \\ \n \r \t, every other byte raw): the escaping every
// text value goes through. For the benchmarks; encode_snapshot needs no help.
void append_copy_text(std::string& out, std::string_view text);

}  // namespace xrayd
