// The column order of the COPY rows the encoder produces and the writer loads.
// Both sides use these lists, so they cannot drift apart. The tables are those
// of schema/001_initial.sql; generated columns and ingested_at are left out.
#pragma once

namespace xrayd::copy_layout {

inline constexpr const char* kExecutionColumns =
    "app, id, pipeline, environment, status, started_at, ended_at, step_count, metadata, "
    "result, error";

inline constexpr const char* kStepColumns =
    "app, execution_id, step_index, name, status, started_at, ended_at, candidates_in, "
    "candidates_passed, input, output, filters, selection, reasoning, metadata, error";

inline constexpr const char* kEvaluationColumns =
    "app, execution_id, step_index, position, candidate_id, passed, reasons, scores, metadata";

}  // namespace xrayd::copy_layout
