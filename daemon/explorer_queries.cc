#include "daemon/explorer_queries.h"

namespace xrayd {
namespace {

// A time as every explorer response spells it: RFC 3339, UTC, milliseconds.
std::string t(std::string_view expr) {
  return "to_char((" + std::string(expr) +
         ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
}

std::string micros(std::string_view expr) {
  return "(extract(epoch FROM " + std::string(expr) + ") * 1000000)::int8";
}

// The members of an execution as GET /v1/executions lists it.
std::string execution_members() {
  return "'app', e.app, 'id', e.id, 'pipeline', e.pipeline, 'environment', e.environment, "
         "'status', e.status, 'started_at', " +
         t("e.started_at") + ", 'ended_at', " + t("e.ended_at") +
         ", 'duration_ms', e.duration_ms, 'step_count', e.step_count, 'metadata', e.metadata, "
         "'ingested_at', " +
         t("e.ingested_at");
}

// The members of a step as the execution page shows it, evaluations aside.
std::string step_members() {
  return "'index', s.step_index, 'name', s.name, 'status', s.status, 'started_at', " +
         t("s.started_at") + ", 'ended_at', " + t("s.ended_at") +
         ", 'duration_ms', s.duration_ms, 'candidates_in', s.candidates_in, "
         "'candidates_passed', s.candidates_passed, 'input', s.input, 'output', s.output, "
         "'filters', s.filters, 'selection', s.selection, 'reasoning', s.reasoning, "
         "'metadata', s.metadata, 'error', s.error";
}

std::string evaluation_members() {
  return "'position', v.position, 'candidate_id', v.candidate_id, 'passed', v.passed, "
         "'reasons', v.reasons, 'scores', v.scores, 'metadata', v.metadata";
}

const char* kEliminatedRatio =
    "((s.candidates_in - s.candidates_passed)::float8 / NULLIF(s.candidates_in, 0))";

std::string item_json(ListItem item) {
  switch (item) {
    case ListItem::kExecution:
      return "json_build_object(" + execution_members() + ")";
    case ListItem::kStep:
      return "json_build_object(" + step_members() +
             ", 'app', s.app, 'execution_id', s.execution_id, 'pipeline', e.pipeline)";
    case ListItem::kEvaluation:
      return "json_build_object(" + evaluation_members() +
             ", 'app', v.app, 'execution_id', v.execution_id, 'step_index', v.step_index, "
             "'step_name', s.name)";
    case ListItem::kElimination:
      return "json_build_object('app', s.app, 'execution_id', s.execution_id, 'pipeline', "
             "e.pipeline, 'index', s.step_index, 'name', s.name, 'candidates_in', "
             "s.candidates_in, 'candidates_passed', s.candidates_passed, 'eliminated_ratio', " +
             std::string(kEliminatedRatio) + ", 'started_at', " + t("e.started_at") + ")";
    case ListItem::kFailedCandidate:
      return "json_build_object('app', v.app, 'execution_id', v.execution_id, 'pipeline', "
             "e.pipeline, 'step_index', v.step_index, 'step_name', s.name, 'position', "
             "v.position, 'candidate_id', v.candidate_id, 'reasons', v.reasons, 'scores', "
             "v.scores, 'started_at', " +
             t("e.started_at") + ")";
  }
  return "NULL";
}

}  // namespace

QueryTarget target_of(ListItem item) {
  switch (item) {
    case ListItem::kExecution:
      return QueryTarget::kExecutions;
    case ListItem::kStep:
    case ListItem::kElimination:
      return QueryTarget::kSteps;
    case ListItem::kEvaluation:
    case ListItem::kFailedCandidate:
      return QueryTarget::kEvaluations;
  }
  return QueryTarget::kExecutions;
}

CursorKind cursor_kind_of(ListItem item) {
  switch (target_of(item)) {
    case QueryTarget::kExecutions:
      return CursorKind::kExecution;
    case QueryTarget::kSteps:
      return CursorKind::kStep;
    case QueryTarget::kEvaluations:
      return CursorKind::kEvaluation;
  }
  return CursorKind::kExecution;
}

std::string time_param(Timestamp at, SqlParams& params) {
  return "(timestamptz 'epoch' + " + params.add(std::to_string(epoch_micros(at)), "bigint") +
         " * interval '1 microsecond')";
}

std::string list_sql(ListItem item, std::string_view execution_condition,
                     std::string_view condition, const std::optional<CursorKey>& after,
                     std::size_t fetch_rows, SqlParams& params) {
  const QueryTarget target = target_of(item);
  std::string outer = execution_condition.empty() ? "TRUE" : std::string(execution_condition);
  std::string inner = "(";
  inner.append(condition.empty() ? "TRUE" : condition).append(")");
  if (after) {
    // Keyset: strictly after the cursor's row in the order newest first. The
    // redundant `started_at <= T` lets the planner start the walk there.
    const std::string at =
        time_param(Timestamp{std::chrono::microseconds{after->started_at_us}}, params);
    std::string key = "(e.app, e.id";
    std::string row = "(" + params.add(after->app, "text") + ", " + params.add(after->id, "text");
    if (target != QueryTarget::kExecutions) {
      key += target == QueryTarget::kSteps ? ", s.step_index" : ", v.step_index";
      row += ", " + params.add(std::to_string(after->step_index), "integer");
    }
    if (target == QueryTarget::kEvaluations) {
      key += ", v.position";
      row += ", " + params.add(std::to_string(after->position), "integer");
    }
    key += ")";
    row += ")";
    outer += " AND e.started_at <= " + at;
    inner += " AND (e.started_at < " + at + " OR " + key + " > " + row + ")";
  }
  const std::string limit = params.add(std::to_string(fetch_rows), "bigint");
  if (target == QueryTarget::kExecutions) {
    return "SELECT " + item_json(item) + "::text, e.app, e.id, " + micros("e.started_at") +
           ", NULL::int, NULL::int FROM executions e WHERE " + outer + " AND " + inner +
           " ORDER BY e.started_at DESC, e.app, e.id LIMIT " + limit;
  }
  // Steps and evaluations: walk executions newest first (an index scan) and
  // probe each one's rows by primary key, stopping at the limit. `OFFSET 0`
  // keeps PostgreSQL from flattening the LATERAL subquery into a plain join,
  // which it may otherwise plan as a full scan and sort of steps or
  // evaluations whenever it underestimates how many rows match (the
  // selectivity of a reason inside an array is a guess; before the first
  // ANALYZE of a fast-growing table, a bad one): seconds instead of
  // milliseconds on a few million evaluations.
  std::string rows;
  if (target == QueryTarget::kSteps) {
    rows = "SELECT " + item_json(item) +
           "::text AS item, s.step_index AS step_index, NULL::int AS position FROM steps s "
           "WHERE s.app = e.app AND s.execution_id = e.id";
  } else {
    rows = "SELECT " + item_json(item) +
           "::text AS item, v.step_index AS step_index, v.position AS position FROM evaluations "
           "v JOIN steps s ON s.app = v.app AND s.execution_id = v.execution_id AND "
           "s.step_index = v.step_index WHERE v.app = e.app AND v.execution_id = e.id";
  }
  return "SELECT r.item, e.app, e.id, " + micros("e.started_at") +
         ", r.step_index, r.position FROM executions e CROSS JOIN LATERAL (" + rows + " AND " +
         inner + " OFFSET 0) r WHERE " + outer +
         " ORDER BY e.started_at DESC, e.app, e.id, r.step_index, r.position LIMIT " + limit;
}

std::string execution_sql(const std::string& app, const std::string& id,
                          std::size_t evaluations_limit, SqlParams& params) {
  const std::string limit = params.add(std::to_string(evaluations_limit), "bigint");
  const std::string app_param = params.add(app, "text");
  const std::string id_param = params.add(id, "text");
  // Evaluations come from the primary key's order, at most `limit` per step;
  // candidates_in counts them all, so it tells whether some were left out.
  return "SELECT json_build_object('execution', json_build_object(" + execution_members() +
         ", 'result', e.result, 'error', e.error), 'steps', COALESCE((SELECT json_agg("
         "json_build_object(" +
         step_members() + ", 'evaluations', COALESCE((SELECT json_agg(json_build_object(" +
         evaluation_members() +
         ") ORDER BY v.position) FROM (SELECT * FROM evaluations v0 WHERE v0.app = s.app AND "
         "v0.execution_id = s.execution_id AND v0.step_index = s.step_index ORDER BY "
         "v0.position LIMIT " +
         limit + ") v), '[]'::json), 'evaluations_truncated', COALESCE(s.candidates_in, 0) > " +
         limit +
         ") ORDER BY s.step_index) FROM steps s WHERE s.app = e.app AND s.execution_id = e.id), "
         "'[]'::json))::text FROM executions e WHERE e.app = " +
         app_param + " AND e.id = " + id_param;
}

std::string pipelines_sql(std::size_t max_rows, SqlParams& params) {
  return "SELECT json_build_object('app', app, 'pipeline', pipeline, 'executions', count(*), "
         "'failed', count(*) FILTER (WHERE status = 'failed'), 'last_started_at', " +
         t("max(started_at)") +
         ")::text FROM executions GROUP BY app, pipeline ORDER BY app, pipeline LIMIT " +
         params.add(std::to_string(max_rows), "bigint");
}

std::string shape_sql(const std::string& step, const std::string& app, const std::string& pipeline,
                      std::size_t sample, SqlParams& params) {
  std::string of_execution = "TRUE";
  if (!app.empty()) of_execution += " AND e.app = " + params.add(app, "text");
  if (!pipeline.empty()) of_execution += " AND e.pipeline = " + params.add(pipeline, "text");
  // The newest executions' steps of that name, found as list_sql finds
  // steps: a walk of executions, each probed by primary key.
  return "SELECT r.input, r.output, r.filters, r.metadata, " + micros("e.started_at") +
         " FROM executions e CROSS JOIN LATERAL (SELECT s.input::text AS input, s.output::text "
         "AS output, s.filters::text AS filters, s.metadata::text AS metadata, s.step_index AS "
         "step_index FROM steps s WHERE s.app = e.app AND s.execution_id = e.id AND s.name = " +
         params.add(step, "text") + " OFFSET 0) r WHERE " + of_execution +
         " ORDER BY e.started_at DESC, e.app, e.id, r.step_index LIMIT " +
         params.add(std::to_string(sample), "bigint");
}

std::string analytics_sql(const std::string& app, const std::string& pipeline, Timestamp since,
                          Timestamp until, const std::string& bucket, SqlParams& params) {
  const std::string since_p = time_param(since, params);
  const std::string until_p = time_param(until, params);
  const std::string bucket_p = params.add(bucket, "text");
  std::string where = "e.pipeline = " + params.add(pipeline, "text") +
                      " AND e.started_at >= " + since_p + " AND e.started_at < " + until_p;
  if (!app.empty()) where += " AND e.app = " + params.add(app, "text");
  // Buckets in UTC; every bucket of the range appears, empty ones with zeros.
  const std::string runs =
      "SELECT COALESCE(json_agg(json_build_object('bucket', to_char(b.bucket, "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), 'total', COALESCE(c.total, 0), 'failed', "
      "COALESCE(c.failed, 0)) ORDER BY b.bucket), '[]'::json) FROM generate_series(date_trunc(" +
      bucket_p + ", " + since_p + " AT TIME ZONE 'UTC'), (" + until_p +
      " AT TIME ZONE 'UTC') - interval '1 microsecond', ('1 ' || " + bucket_p +
      ")::interval) AS b(bucket) LEFT JOIN (SELECT date_trunc(" + bucket_p +
      ", r.started_at AT TIME ZONE 'UTC') AS bucket, count(*) AS total, count(*) FILTER (WHERE "
      "r.status = 'failed') AS failed FROM r GROUP BY 1) c ON c.bucket = b.bucket";
  const std::string failure_rate =
      "SELECT COALESCE((count(*) FILTER (WHERE r.status = 'failed'))::float8 / NULLIF(count(*), "
      "0), 0) FROM r";
  const std::string funnel =
      "SELECT COALESCE(json_agg(json_build_object('index', f.step_index, 'name', f.name, 'runs', "
      "f.runs, 'avg_candidates_in', f.avg_in, 'avg_candidates_passed', f.avg_passed) ORDER BY "
      "f.step_index, f.name), '[]'::json) FROM (SELECT s.step_index, s.name, count(*) AS runs, "
      "avg(s.candidates_in)::float8 AS avg_in, avg(s.candidates_passed)::float8 AS avg_passed "
      "FROM r JOIN steps s ON s.app = r.app AND s.execution_id = r.id GROUP BY s.step_index, "
      "s.name) f";
  return "WITH r AS MATERIALIZED (SELECT e.app, e.id, e.started_at, e.status FROM executions e "
         "WHERE " +
         where + ") SELECT json_build_object('runs', (" + runs + "), 'failure_rate', (" +
         failure_rate + "), 'funnel', (" + funnel + "))::text";
}

std::string stream_summaries_sql(const std::string& pairs_json, SqlParams& params) {
  return "SELECT json_build_object('app', e.app, 'id', e.id, 'pipeline', e.pipeline, "
         "'environment', e.environment, 'status', e.status, 'started_at', " +
         t("e.started_at") +
         ", 'duration_ms', e.duration_ms)::text, e.app, e.id, e.pipeline FROM "
         "jsonb_array_elements(" +
         params.add(pairs_json, "jsonb") +
         ") AS w(pair) JOIN executions e ON e.app = w.pair->>0 AND e.id = w.pair->>1 ORDER BY "
         "e.started_at, e.app, e.id";
}

}  // namespace xrayd
