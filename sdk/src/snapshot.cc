#include "snapshot.h"

#include "timestamp.h"

namespace xray::sdk {
namespace {

const char* to_string(StepStatus s) {
  switch (s) {
    case StepStatus::kCompleted:
      return "completed";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "completed";
}

const char* to_string(ExecutionStatus s) {
  switch (s) {
    case ExecutionStatus::kRunning:
      return "running";
    case ExecutionStatus::kCompleted:
      return "completed";
    case ExecutionStatus::kFailed:
      return "failed";
  }
  return "failed";
}

// Writes `"key":` with the comma that separates it from a previous member.
void key(std::string& out, const char* name) {
  if (out.back() != '{') out.push_back(',');
  out.push_back('"');
  out.append(name);  // field names are ASCII literals: nothing to escape
  out.append("\":");
}

void string_member(std::string& out, const char* name, std::string_view value) {
  key(out, name);
  append_json_string(out, value);
}

void time_member(std::string& out, const char* name, std::int64_t unix_ms) {
  key(out, name);
  out.push_back('"');
  append_rfc3339(out, unix_ms);
  out.push_back('"');
}

void json_member(std::string& out, const char* name, const Json& value) {
  if (value.is_null()) return;
  key(out, name);
  value.dump_to(out);
}

void write_evaluation(std::string& out, const Evaluation& e) {
  out.push_back('{');
  string_member(out, "id", e.id);
  key(out, "passed");
  out.append(e.passed ? "true" : "false");
  if (!e.reasons.empty()) {
    key(out, "reasons");
    out.push_back('[');
    for (std::size_t i = 0; i < e.reasons.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_json_string(out, e.reasons[i]);
    }
    out.push_back(']');
  }
  if (!e.scores.empty()) {
    key(out, "scores");
    out.push_back('{');
    for (std::size_t i = 0; i < e.scores.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_json_string(out, e.scores[i].first);
      out.push_back(':');
      Json(e.scores[i].second).dump_to(out);
    }
    out.push_back('}');
  }
  json_member(out, "metadata", e.metadata);
  out.push_back('}');
}

void write_step(std::string& out, const StepRecord& s) {
  out.push_back('{');
  string_member(out, "name", s.name);
  string_member(out, "status", to_string(s.status));
  time_member(out, "started_at", s.started_ms);
  if (s.ended_ms) time_member(out, "ended_at", *s.ended_ms);
  json_member(out, "input", s.input);
  json_member(out, "output", s.output);
  json_member(out, "filters", s.filters);
  if (!s.evaluations.empty()) {
    key(out, "evaluations");
    out.push_back('[');
    for (std::size_t i = 0; i < s.evaluations.size(); ++i) {
      if (i > 0) out.push_back(',');
      write_evaluation(out, s.evaluations[i]);
    }
    out.push_back(']');
  }
  json_member(out, "selection", s.selection);
  if (s.reasoning) string_member(out, "reasoning", *s.reasoning);
  json_member(out, "metadata", s.metadata);
  json_member(out, "error", s.error);
  out.push_back('}');
}

}  // namespace

std::string serialize_snapshot(const SnapshotContext& context, const ExecutionRecord& execution,
                               ExecutionStatus status) {
  std::string out;
  out.reserve(512);
  out.push_back('{');
  string_member(out, "id", execution.id);
  string_member(out, "app", context.app);
  string_member(out, "pipeline", execution.pipeline);
  if (!context.environment.empty()) string_member(out, "environment", context.environment);
  string_member(out, "status", to_string(status));
  time_member(out, "started_at", execution.started_ms);
  if (execution.ended_ms) time_member(out, "ended_at", *execution.ended_ms);
  json_member(out, "metadata", execution.metadata);
  json_member(out, "result", execution.result);
  json_member(out, "error", execution.error);
  key(out, "steps");
  out.push_back('[');
  for (std::size_t i = 0; i < execution.steps.size(); ++i) {
    if (i > 0) out.push_back(',');
    write_step(out, execution.steps[i]);
  }
  out.append("]}");
  return out;
}

}  // namespace xray::sdk
