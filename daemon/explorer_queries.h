// ExplorerQueries: the SQL the explorer runs, one function per question
// (docs/api.md). PostgreSQL builds each response item as JSON
// (json_build_object), so the daemon passes text through.
//
// Every function takes values that explorer_api.cc has already validated and
// adds each of them to `params` (SqlParams); the statements hold only
// placeholders and SQL written here. Time values are bound as microseconds
// since the epoch. Pure: any thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/cursor.h"
#include "daemon/filter_compiler.h"
#include "daemon/sql_params.h"
#include "daemon/timestamp.h"

namespace xrayd {

// What one row of a list is.
enum class ListItem {
  kExecution,        // GET /v1/executions, POST /v1/query target executions
  kStep,             // POST /v1/query target steps
  kEvaluation,       // POST /v1/query target evaluations
  kElimination,      // GET /v1/insights/eliminations
  kFailedCandidate,  // GET /v1/insights/failed-candidates
};

QueryTarget target_of(ListItem item);
CursorKind cursor_kind_of(ListItem item);

// Columns of every list statement, in order.
enum ListColumn : std::size_t {
  kItemJson = 0,  // the item without execution_url
  kApp,           // the execution's app and id, for execution_url and the cursor
  kExecutionId,
  kStartedAtUs,  // the execution's started_at in microseconds
  kStepIndex,    // NULL for executions
  kPosition,     // NULL but for evaluations
  kListColumns,
};

// SELECT the items of `item` (aliases as in filter_compiler.h) WHERE
// `execution_condition` (SQL over the execution `e` alone; "" for none) and
// `condition` (SQL over the target's aliases), their values already in
// `params`, after `after` in the order newest execution first —
// (started_at DESC, app, id, step_index, position) — at most `fetch_rows`.
// Steps and evaluations are found by walking executions in that order, so a
// page costs what it reads whatever PostgreSQL's statistics say.
std::string list_sql(ListItem item, std::string_view execution_condition,
                     std::string_view condition, const std::optional<CursorKey>& after,
                     std::size_t fetch_rows, SqlParams& params);

// One row, one column: {"execution": {...}, "steps": [...]} for (app, id),
// each step with at most `evaluations_limit` evaluations; no row when absent.
std::string execution_sql(const std::string& app, const std::string& id,
                          std::size_t evaluations_limit, SqlParams& params);

// Rows of one column: {"app","pipeline","executions","failed","last_started_at"},
// at most `max_rows`, by app and pipeline.
std::string pipelines_sql(std::size_t max_rows, SqlParams& params);

// The sampled steps named `step` (newest execution first, at most `sample`):
// columns input, output, filters, metadata (JSON text or NULL) and the
// execution's started_at in microseconds.
std::string shape_sql(const std::string& step, const std::string& app, const std::string& pipeline,
                      std::size_t sample, SqlParams& params);

// One row, one column: {"runs": [...], "failure_rate": x, "funnel": [...]}
// for `pipeline` (and `app` when not empty) over [since, until) in buckets
// of `bucket` ("minute", "hour" or "day").
std::string analytics_sql(const std::string& app, const std::string& pipeline, Timestamp since,
                          Timestamp until, const std::string& bucket, SqlParams& params);

// Columns: the stream event's JSON (without execution_url), app, id,
// pipeline, for the executions named by `pairs_json` ([[app, id], ...]).
std::string stream_summaries_sql(const std::string& pairs_json, SqlParams& params);

// A timestamptz expression for `t`, bound as microseconds.
std::string time_param(Timestamp t, SqlParams& params);

}  // namespace xrayd
