#include "daemon/explorer_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>

#include <boost/asio/ip/address.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "daemon/cursor.h"
#include "daemon/filter_compiler.h"
#include "daemon/json_shape.h"
#include "daemon/static_assets.h"
#include "daemon/url.h"

namespace xrayd {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;
using xray::Errc;
using xray::InputError;

template <class T>
using Checked = boost::system::result<T, InputError>;

InputError bad(std::string field, std::string message) {
  return {Errc::kBadQuery, std::move(field), std::move(message)};
}

ExplorerOutcome outcome_of(Errc code) {
  switch (code) {
    case Errc::kNotFound:
      return ExplorerOutcome::kNotFound;
    case Errc::kBusy:
      return ExplorerOutcome::kBusy;
    case Errc::kDatabaseUnavailable:
    case Errc::kShuttingDown:
      return ExplorerOutcome::kUnavailable;
    case Errc::kQueryTimeout:
      return ExplorerOutcome::kTimeout;
    case Errc::kQueryFailed:
      return ExplorerOutcome::kFailed;
    default:
      return ExplorerOutcome::kBadRequest;
  }
}

ApiReply input_error(const InputError& e) { return error_reply(e.code, e.message, e.field); }

ApiReply method_not_allowed(http::verb method, const char* allow) {
  ApiReply r =
      error_reply(Errc::kMethodNotAllowed, "method " + std::string(http::to_string(method)) +
                                               " not allowed here; allowed: " + allow);
  r.allow = allow;
  return r;
}

// The query parameters of one request, checked against what its route takes.
class Params {
 public:
  explicit Params(std::vector<std::pair<std::string, std::string>> pairs)
      : pairs_(std::move(pairs)) {}

  // Every parameter is in `known` (or, with `meta`, starts "meta."), none but
  // meta.* repeats, and every value is at most kMaxParamBytes.
  Checked<void> check(std::initializer_list<std::string_view> known, bool meta = false) const {
    std::map<std::string_view, int> seen;
    for (const auto& [name, value] : pairs_) {
      const bool is_meta = meta && name.rfind("meta.", 0) == 0;
      if (!is_meta && std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        if (meta) list += ", meta.<key>";
        return bad(name, "unknown parameter " + name + "; this endpoint takes " + list);
      }
      if (!is_meta && ++seen[name] > 1) return bad(name, "parameter " + name + " is repeated");
      if (value.size() > kMaxParamBytes) {
        return bad(name, "parameter " + name + " is longer than " + std::to_string(kMaxParamBytes) +
                             " bytes");
      }
    }
    return {};
  }

  // The value, or "" when absent (an empty value means "any", as absent).
  std::string text(std::string_view name) const {
    for (const auto& [n, v] : pairs_) {
      if (n == name) return v;
    }
    return {};
  }

  const std::vector<std::pair<std::string, std::string>>& all() const { return pairs_; }

  Checked<std::optional<Timestamp>> time(std::string_view name) const {
    const std::string v = text(name);
    if (v.empty()) return std::optional<Timestamp>{};
    auto t = parse_time_text(v);
    if (!t) {
      return bad(std::string(name), std::string(name) +
                                        " must be an RFC 3339 timestamp "
                                        "(2026-11-22T10:00:00.123Z) or epoch milliseconds");
    }
    return std::optional<Timestamp>(*t);
  }

  // An integer in [min, max]; `fallback` when absent.
  Checked<std::size_t> count(std::string_view name, std::size_t fallback, std::size_t min,
                             std::size_t max, std::string_view max_name = {}) const {
    const std::string v = text(name);
    if (v.empty()) return fallback;
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
      std::string message = std::string(name) + " must be an integer from " + std::to_string(min) +
                            " to " + std::to_string(max);
      if (!max_name.empty()) message += " (" + std::string(max_name) + ")";
      return bad(std::string(name), message);
    }
    return n;
  }

  Checked<std::optional<CursorKey>> cursor(CursorKind kind) const {
    const std::string v = text("cursor");
    if (v.empty()) return std::optional<CursorKey>{};
    auto key = decode_cursor(v, kind);
    if (!key) return key.error();
    return std::optional<CursorKey>(std::move(*key));
  }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Appends "AND <sql>" to a condition.
void also(std::string& condition, const std::string& sql) {
  condition += condition.empty() ? sql : " AND " + sql;
}

Checked<std::string> started_between(const Params& p, SqlParams& params) {
  std::string condition;
  auto since = p.time("since");
  if (!since) return since.error();
  auto until = p.time("until");
  if (!until) return until.error();
  if (*since) also(condition, "e.started_at >= " + time_param(**since, params));
  if (*until) also(condition, "e.started_at < " + time_param(**until, params));
  return condition;
}

// `execution_condition` is over the execution `e` alone, `condition` over
// the target's rows (explorer_queries.h).
QueryPlan list_plan(ExplorerEndpoint endpoint, ListItem item, std::string list_key,
                    const std::string& execution_condition, const std::string& condition,
                    const std::optional<CursorKey>& after, std::size_t limit, SqlParams& params) {
  QueryPlan plan;
  plan.endpoint = endpoint;
  plan.kind = QueryPlan::Kind::kList;
  plan.item = item;
  plan.list_key = std::move(list_key);
  plan.limit = limit;
  plan.sql = list_sql(item, execution_condition, condition, after, limit + 1, params);
  plan.params = params.take();
  return plan;
}

std::string max_rows_name(const ApiLimits& limits) {
  return "query_max_rows = " + std::to_string(limits.max_rows);
}

Plan plan_executions(const Params& p, const ApiLimits& limits) {
  if (auto ok = p.check(
          {"app", "pipeline", "environment", "status", "since", "until", "q", "limit", "cursor"},
          true);
      !ok) {
    return input_error(ok.error());
  }
  auto limit = p.count("limit", std::min(kDefaultLimit, limits.max_rows), 1, limits.max_rows,
                       max_rows_name(limits));
  if (!limit) return input_error(limit.error());
  auto after = p.cursor(CursorKind::kExecution);
  if (!after) return input_error(after.error());
  SqlParams params;
  std::string condition;
  for (const char* column : {"app", "pipeline", "environment"}) {
    if (auto v = p.text(column); !v.empty()) {
      also(condition, std::string("e.") + column + " = " + params.add(v, "text"));
    }
  }
  if (auto status = p.text("status"); !status.empty()) {
    if (status != "running" && status != "completed" && status != "failed") {
      return error_reply(Errc::kBadQuery, "status must be running, completed or failed", "status");
    }
    also(condition, "e.status = " + params.add(status, "text"));
  }
  auto between = started_between(p, params);
  if (!between) return input_error(between.error());
  if (!between->empty()) also(condition, *between);
  for (const auto& [name, value] : p.all()) {
    if (name.rfind("meta.", 0) != 0) continue;
    const std::string key = name.substr(5);
    if (key.empty()) return error_reply(Errc::kBadQuery, "meta. needs a key: meta.<key>", name);
    // The string, or also the number or boolean it spells (jsonb containment
    // compares numbers by value: meta.n=5 matches 5 and 5.0).
    std::string alternatives =
        "e.metadata @> " + params.add(json::serialize(json::object{{key, value}}), "jsonb");
    boost::system::error_code ec;
    json::value parsed = json::parse(value, ec);
    if (!ec && (parsed.is_number() || parsed.is_bool())) {
      alternatives +=
          " OR e.metadata @> " + params.add(json::serialize(json::object{{key, parsed}}), "jsonb");
    }
    also(condition, "(" + alternatives + ")");
  }
  if (auto q = p.text("q"); !q.empty()) {
    also(condition,
         "EXISTS (SELECT 1 FROM steps q WHERE q.app = e.app AND q.execution_id = e.id AND "
         "strpos(lower(q.reasoning), lower(" +
             params.add(q, "text") + ")) > 0)");
  }
  return list_plan(ExplorerEndpoint::kExecutions, ListItem::kExecution, "executions", condition, "",
                   *after, *limit, params);
}

Plan plan_execution(const Params& p, const std::string& app, const std::string& id) {
  if (auto ok = p.check({"evaluations_limit"}); !ok) return input_error(ok.error());
  auto evaluations =
      p.count("evaluations_limit", kDefaultEvaluationsLimit, 0, kMaxEvaluationsLimit);
  if (!evaluations) return input_error(evaluations.error());
  SqlParams params;
  QueryPlan plan;
  plan.endpoint = ExplorerEndpoint::kExecution;
  plan.kind = QueryPlan::Kind::kExecution;
  plan.sql = execution_sql(app, id, *evaluations, params);
  plan.params = params.take();
  plan.missing = "no execution " + app + "/" + id;
  return plan;
}

Plan plan_query(const ApiRequest& request, const ApiLimits& limits) {
  const std::string_view type = request.content_type.substr(0, request.content_type.find(';'));
  std::string base(type);
  while (!base.empty() && base.back() == ' ') base.pop_back();
  std::transform(base.begin(), base.end(), base.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (base != "application/json") {
    return error_reply(
        Errc::kUnsupportedMediaType,
        "Content-Type must be application/json, got '" + std::string(request.content_type) + "'",
        "Content-Type");
  }
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;
  const json::value body = json::parse(request.body, ec, {}, options);
  if (ec) return error_reply(Errc::kBadQuery, "the body is not JSON: " + ec.message(), "body");
  const json::object* o = body.if_object();
  if (o == nullptr) {
    return error_reply(Errc::kBadQuery, "the body must be a JSON object", "body");
  }
  for (const auto& kv : *o) {
    if (kv.key() != "target" && kv.key() != "where" && kv.key() != "limit" &&
        kv.key() != "cursor") {
      return error_reply(Errc::kBadQuery,
                         "unknown member " + std::string(kv.key()) +
                             "; the body has target, where, limit and cursor",
                         kv.key());
    }
  }
  const json::value* target_v = o->if_contains("target");
  const json::string* target_name = target_v != nullptr ? target_v->if_string() : nullptr;
  const auto target = target_name != nullptr ? query_target_named(*target_name) : std::nullopt;
  if (!target) {
    return error_reply(Errc::kBadQuery,
                       "target must be \"executions\", \"steps\" or \"evaluations\"", "target");
  }
  std::size_t limit = std::min(kDefaultLimit, limits.max_rows);
  if (const json::value* l = o->if_contains("limit"); l != nullptr && !l->is_null()) {
    if (!l->is_int64() || l->get_int64() < 1 ||
        static_cast<std::uint64_t>(l->get_int64()) > limits.max_rows) {
      return error_reply(Errc::kBadQuery,
                         "limit must be an integer from 1 to " + std::to_string(limits.max_rows) +
                             " (" + max_rows_name(limits) + ")",
                         "limit");
    }
    limit = static_cast<std::size_t>(l->get_int64());
  }
  const ListItem item = *target == QueryTarget::kExecutions ? ListItem::kExecution
                        : *target == QueryTarget::kSteps    ? ListItem::kStep
                                                            : ListItem::kEvaluation;
  std::optional<CursorKey> after;
  if (const json::value* c = o->if_contains("cursor"); c != nullptr && !c->is_null()) {
    if (!c->is_string()) {
      return error_reply(Errc::kBadQuery, "cursor must be a string or null", "cursor");
    }
    auto key = decode_cursor(std::string_view(c->get_string()), cursor_kind_of(item));
    if (!key) return input_error(key.error());
    after = std::move(*key);
  }
  SqlParams params;
  const json::value* where = o->if_contains("where");
  auto condition = compile_filter(*target, where != nullptr ? *where : json::value(), params);
  if (!condition) return input_error(condition.error());
  return list_plan(ExplorerEndpoint::kQuery, item, "rows", "", *condition, after, limit, params);
}

Plan plan_eliminations(const Params& p, const ApiLimits& limits) {
  if (auto ok =
          p.check({"min_ratio", "app", "pipeline", "step", "since", "until", "limit", "cursor"});
      !ok) {
    return input_error(ok.error());
  }
  std::string ratio = p.text("min_ratio");
  if (ratio.empty()) ratio = "0.9";
  double r = -1;
  auto [end, ec] = std::from_chars(ratio.data(), ratio.data() + ratio.size(), r);
  if (ec != std::errc() || end != ratio.data() + ratio.size() || !std::isfinite(r) || r < 0 ||
      r > 1) {
    return error_reply(Errc::kBadQuery, "min_ratio must be a number from 0 to 1", "min_ratio");
  }
  auto limit = p.count("limit", std::min(kDefaultLimit, limits.max_rows), 1, limits.max_rows,
                       max_rows_name(limits));
  if (!limit) return input_error(limit.error());
  auto after = p.cursor(CursorKind::kStep);
  if (!after) return input_error(after.error());
  SqlParams params;
  // Exact arithmetic: eliminated / in > min_ratio, without a division.
  std::string condition =
      "s.candidates_in > 0 AND (s.candidates_in - s.candidates_passed)::numeric > " +
      params.add(ratio, "numeric") + " * s.candidates_in";
  std::string of_execution;
  if (auto v = p.text("app"); !v.empty()) also(of_execution, "e.app = " + params.add(v, "text"));
  if (auto v = p.text("pipeline"); !v.empty()) {
    also(of_execution, "e.pipeline = " + params.add(v, "text"));
  }
  if (auto v = p.text("step"); !v.empty()) also(condition, "s.name = " + params.add(v, "text"));
  auto between = started_between(p, params);
  if (!between) return input_error(between.error());
  if (!between->empty()) also(of_execution, *between);
  return list_plan(ExplorerEndpoint::kEliminations, ListItem::kElimination, "steps", of_execution,
                   condition, *after, *limit, params);
}

Plan plan_failed_candidates(const Params& p, const ApiLimits& limits) {
  if (auto ok = p.check({"reason", "app", "pipeline", "step", "candidate_id", "since", "until",
                         "limit", "cursor"});
      !ok) {
    return input_error(ok.error());
  }
  const std::string reason = p.text("reason");
  if (reason.empty()) {
    return error_reply(Errc::kBadQuery,
                       "reason is required: a case-insensitive part of a reason, e.g. rating",
                       "reason");
  }
  auto limit = p.count("limit", std::min(kDefaultLimit, limits.max_rows), 1, limits.max_rows,
                       max_rows_name(limits));
  if (!limit) return input_error(limit.error());
  auto after = p.cursor(CursorKind::kEvaluation);
  if (!after) return input_error(after.error());
  SqlParams params;
  // Not passed: false, or undecided (NULL), as candidates_passed counts them.
  std::string condition =
      "v.passed IS NOT TRUE AND EXISTS (SELECT 1 FROM unnest(v.reasons) AS r(reason) WHERE "
      "strpos(lower(r.reason), lower(" +
      params.add(reason, "text") + ")) > 0)";
  std::string of_execution;
  if (auto v = p.text("app"); !v.empty()) also(of_execution, "e.app = " + params.add(v, "text"));
  if (auto v = p.text("pipeline"); !v.empty()) {
    also(of_execution, "e.pipeline = " + params.add(v, "text"));
  }
  if (auto v = p.text("step"); !v.empty()) also(condition, "s.name = " + params.add(v, "text"));
  if (auto v = p.text("candidate_id"); !v.empty()) {
    also(condition, "v.candidate_id = " + params.add(v, "text"));
  }
  auto between = started_between(p, params);
  if (!between) return input_error(between.error());
  if (!between->empty()) also(of_execution, *between);
  return list_plan(ExplorerEndpoint::kFailedCandidates, ListItem::kFailedCandidate, "candidates",
                   of_execution, condition, *after, *limit, params);
}

Plan plan_pipelines(const Params& p, const ApiLimits& limits) {
  if (auto ok = p.check({}); !ok) return input_error(ok.error());
  SqlParams params;
  QueryPlan plan;
  plan.endpoint = ExplorerEndpoint::kPipelines;
  plan.kind = QueryPlan::Kind::kPipelines;
  plan.sql = pipelines_sql(limits.max_rows, params);
  plan.params = params.take();
  return plan;
}

Plan plan_shape(const Params& p) {
  if (auto ok = p.check({"app", "pipeline", "step", "sample"}); !ok) return input_error(ok.error());
  const std::string step = p.text("step");
  if (step.empty()) return error_reply(Errc::kBadQuery, "step (a step name) is required", "step");
  auto sample = p.count("sample", kDefaultShapeSample, 1, kMaxShapeSample);
  if (!sample) return input_error(sample.error());
  SqlParams params;
  QueryPlan plan;
  plan.endpoint = ExplorerEndpoint::kShape;
  plan.kind = QueryPlan::Kind::kShape;
  plan.step = step;
  plan.sql = shape_sql(step, p.text("app"), p.text("pipeline"), *sample, params);
  plan.params = params.take();
  return plan;
}

Plan plan_analytics(const Params& p, Timestamp now) {
  if (auto ok = p.check({"app", "pipeline", "since", "until", "bucket"}); !ok) {
    return input_error(ok.error());
  }
  const std::string pipeline = p.text("pipeline");
  if (pipeline.empty()) return error_reply(Errc::kBadQuery, "pipeline is required", "pipeline");
  std::string bucket = p.text("bucket");
  if (bucket.empty()) bucket = "hour";
  std::chrono::microseconds width{};
  if (bucket == "minute") {
    width = std::chrono::minutes(1);
  } else if (bucket == "hour") {
    width = std::chrono::hours(1);
  } else if (bucket == "day") {
    width = std::chrono::hours(24);
  } else {
    return error_reply(Errc::kBadQuery, "bucket must be minute, hour or day", "bucket");
  }
  auto since = p.time("since");
  if (!since) return input_error(since.error());
  auto until = p.time("until");
  if (!until) return input_error(until.error());
  const Timestamp to = until->value_or(now);
  const Timestamp from = since->value_or(to - std::chrono::hours(24));
  if (from >= to) return error_reply(Errc::kBadQuery, "since must be before until", "since");
  if ((to - from) / width > static_cast<std::int64_t>(kMaxAnalyticsBuckets)) {
    return error_reply(Errc::kBadQuery,
                       "more than " + std::to_string(kMaxAnalyticsBuckets) +
                           " buckets; choose a wider bucket or a shorter range",
                       "bucket");
  }
  SqlParams params;
  QueryPlan plan;
  plan.endpoint = ExplorerEndpoint::kAnalytics;
  plan.kind = QueryPlan::Kind::kAnalytics;
  plan.sql = analytics_sql(p.text("app"), pipeline, from, to, bucket, params);
  plan.params = params.take();
  return plan;
}

Plan plan_stream(const Params& p) {
  if (auto ok = p.check({"app", "pipeline"}); !ok) return input_error(ok.error());
  return StreamPlan{StreamFilter{p.text("app"), p.text("pipeline")}};
}

Plan plan_asset(http::verb method, const std::vector<std::string>& segments) {
  if (method != http::verb::get && method != http::verb::head) {
    return method_not_allowed(method, "GET, HEAD");
  }
  std::string path;
  for (const auto& s : segments) path += (path.empty() ? "" : "/") + s;
  const EmbeddedAsset* asset = find_asset(path);
  if (asset == nullptr) {
    return error_reply(Errc::kNotFound, path.empty() ? "no dashboard is built into this xrayd"
                                                     : "no such file: /" + path);
  }
  ApiReply r;
  r.body = std::string(asset->bytes);
  r.content_type = std::string(content_type_for(asset->path));
  r.asset = true;
  return r;
}

// The endpoint a target names, for counting; nullopt for anything else.
std::optional<ExplorerEndpoint> endpoint_of(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/executions") return ExplorerEndpoint::kExecutions;
  if (path.rfind("/v1/executions/", 0) == 0) return ExplorerEndpoint::kExecution;
  if (path == "/v1/query") return ExplorerEndpoint::kQuery;
  if (path == "/v1/insights/eliminations") return ExplorerEndpoint::kEliminations;
  if (path == "/v1/insights/failed-candidates") return ExplorerEndpoint::kFailedCandidates;
  if (path == "/v1/pipelines") return ExplorerEndpoint::kPipelines;
  if (path == "/v1/steps/shape") return ExplorerEndpoint::kShape;
  if (path == "/v1/analytics/pipeline") return ExplorerEndpoint::kAnalytics;
  if (path == "/v1/stream") return ExplorerEndpoint::kStream;
  return std::nullopt;
}

// Appends ,"execution_url":"..." inside the JSON object `item`.
void append_with_url(std::string& out, std::string_view item, std::string_view app,
                     std::string_view id) {
  out.append(item.substr(0, item.size() - 1));
  out.append(", \"execution_url\" : \"").append(execution_url(app, id)).append("\"}");
}

std::int64_t number_at(const PgRows& rows, std::size_t r, std::size_t c) {
  if (rows.is_null(r, c)) return 0;
  std::int64_t n = 0;
  const std::string_view v = rows.get(r, c);
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

ApiReply render_list(const QueryPlan& plan, const PgRows& rows) {
  ApiReply reply;
  std::string& body = reply.body;
  body = "{\"" + plan.list_key + "\":[";
  const std::size_t n = std::min(rows.rows(), plan.limit);
  std::size_t included = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const std::string_view item = rows.get(r, kItemJson);
    // A page of very large items ends early; its cursor continues after it.
    if (included > 0 && body.size() + item.size() > kMaxPageBytes) break;
    if (included > 0) body.push_back(',');
    append_with_url(body, item, rows.get(r, kApp), rows.get(r, kExecutionId));
    ++included;
  }
  body += "],\"next_cursor\":";
  if (included < rows.rows()) {
    const std::size_t last = included - 1;
    CursorKey key;
    key.kind = cursor_kind_of(plan.item);
    key.started_at_us = number_at(rows, last, kStartedAtUs);
    key.app = std::string(rows.get(last, kApp));
    key.id = std::string(rows.get(last, kExecutionId));
    key.step_index = number_at(rows, last, kStepIndex);
    key.position = number_at(rows, last, kPosition);
    body += "\"" + encode_cursor(key) + "\"";
  } else {
    body += "null";
  }
  body += "}";
  return reply;
}

ApiReply render_shape(const QueryPlan& plan, const PgRows& rows) {
  static constexpr std::string_view kSections[] = {"input", "output", "filters", "metadata"};
  // The sampled documents are parsed here, on a pool thread; past this many
  // bytes the sample ends early (`sampled` says how many steps it covers).
  constexpr std::size_t kMaxSampleBytes = 32 << 20;
  JsonShape shape;
  std::size_t bytes = 0;
  std::size_t sampled = 0;
  for (std::size_t r = 0; r < rows.rows(); ++r) {
    std::size_t row_bytes = 0;
    for (std::size_t c = 0; c < 4; ++c) row_bytes += rows.get(r, c).size();
    if (sampled > 0 && bytes + row_bytes > kMaxSampleBytes) break;
    bytes += row_bytes;
    const Timestamp seen{std::chrono::microseconds{number_at(rows, r, 4)}};
    for (std::size_t c = 0; c < 4; ++c) {
      if (!rows.is_null(r, c)) shape.add(c, rows.get(r, c), r, seen);
    }
    ++sampled;
  }
  json::object out{{"step", plan.step}, {"sampled", sampled}, {"fields", shape.fields(kSections)}};
  if (shape.truncated()) out["truncated"] = true;
  ApiReply reply;
  reply.body = json::serialize(out);
  return reply;
}

}  // namespace

ApiReply error_reply(Errc code, std::string_view message, std::string_view field) {
  json::object body{{"error", message}, {"code", xray::errc_name(code)}};
  if (!field.empty()) body["field"] = field;
  ApiReply r;
  r.status = static_cast<unsigned>(xray::http_status(code));
  r.body = json::serialize(body);
  r.outcome = outcome_of(code);
  return r;
}

ApiReply reply_for(QueryPool::JobStatus status) {
  switch (status) {
    case QueryPool::JobStatus::kBusy:
      return error_reply(Errc::kBusy, "too many queries waiting (query_connections); retry");
    case QueryPool::JobStatus::kExpired:
      return error_reply(Errc::kBusy,
                         "the query waited longer than query_timeout for a connection; retry");
    case QueryPool::JobStatus::kShuttingDown:
      return error_reply(Errc::kShuttingDown, "the daemon is shutting down; retry");
    case QueryPool::JobStatus::kFailed:
      return error_reply(Errc::kQueryFailed, "the query failed; see the daemon's log");
    case QueryPool::JobStatus::kUnavailable:
    case QueryPool::JobStatus::kRun:
      break;
  }
  return error_reply(Errc::kDatabaseUnavailable, "PostgreSQL is unavailable; retry");
}

ApiReply run_query(const QueryPlan& plan, PgConnection& conn) {
  auto rows = conn.query(plan.sql, plan.params);
  if (!rows) {
    const PgError& e = rows.error();
    // 57014 is also a cancel by QueryPool::stop(); either way the query ran out of time.
    if (e.sqlstate == "57014") {
      return error_reply(Errc::kQueryTimeout,
                         "the query took longer than query_timeout; narrow it (app, pipeline, "
                         "since/until) or ask for fewer rows");
    }
    if (e.retryable()) {
      return error_reply(Errc::kDatabaseUnavailable,
                         "PostgreSQL is unavailable: " + e.client_message());
    }
    ApiReply r = error_reply(Errc::kQueryFailed, "the query failed: " + e.client_message());
    return r;
  }
  return render(plan, *rows);
}

ApiReply render(const QueryPlan& plan, const PgRows& rows) {
  switch (plan.kind) {
    case QueryPlan::Kind::kList:
      return render_list(plan, rows);
    case QueryPlan::Kind::kExecution:
    case QueryPlan::Kind::kAnalytics: {
      if (rows.rows() == 0) return error_reply(Errc::kNotFound, plan.missing);
      ApiReply reply;
      reply.body = std::string(rows.get(0, 0));
      return reply;
    }
    case QueryPlan::Kind::kPipelines: {
      ApiReply reply;
      reply.body = "{\"pipelines\":[";
      for (std::size_t r = 0; r < rows.rows(); ++r) {
        if (r > 0) reply.body.push_back(',');
        reply.body.append(rows.get(r, 0));
      }
      reply.body += "]}";
      return reply;
    }
    case QueryPlan::Kind::kShape:
      return render_shape(plan, rows);
  }
  return error_reply(Errc::kQueryFailed, "unknown plan");
}

Plan route(const ApiRequest& request, const ApiLimits& limits, Timestamp now) {
  auto target = parse_target(request.target);
  if (!target) return input_error(target.error());
  const auto& seg = target->segments;
  const Params params(std::move(target->params));
  const http::verb m = request.method;
  if (seg.empty() || seg[0] != "v1") return plan_asset(m, seg);
  const auto get_only = [&](auto&& plan) -> Plan {
    if (m != http::verb::get) return method_not_allowed(m, "GET");
    return plan();
  };
  const std::size_t n = seg.size();
  if (n == 2 && seg[1] == "executions") {
    return get_only([&] { return plan_executions(params, limits); });
  }
  if (n == 4 && seg[1] == "executions") {
    return get_only([&] { return plan_execution(params, seg[2], seg[3]); });
  }
  if (n == 2 && seg[1] == "query") {
    if (m != http::verb::post) return method_not_allowed(m, "POST");
    if (auto ok = params.check({}); !ok) return input_error(ok.error());
    return plan_query(request, limits);
  }
  if (n == 3 && seg[1] == "insights" && seg[2] == "eliminations") {
    return get_only([&] { return plan_eliminations(params, limits); });
  }
  if (n == 3 && seg[1] == "insights" && seg[2] == "failed-candidates") {
    return get_only([&] { return plan_failed_candidates(params, limits); });
  }
  if (n == 2 && seg[1] == "pipelines") {
    return get_only([&] { return plan_pipelines(params, limits); });
  }
  if (n == 3 && seg[1] == "steps" && seg[2] == "shape") {
    return get_only([&] { return plan_shape(params); });
  }
  if (n == 3 && seg[1] == "analytics" && seg[2] == "pipeline") {
    return get_only([&] { return plan_analytics(params, now); });
  }
  if (n == 2 && seg[1] == "stream") return get_only([&] { return plan_stream(params); });
  return error_reply(Errc::kNotFound, "no route for " + std::string(request.target.substr(
                                                            0, request.target.find('?'))));
}

Plan plan_request(const ApiRequest& request, const ApiLimits& limits, Timestamp now) {
  Plan plan = route(request, limits, now);
  // An immediate answer to an API route is counted under that route.
  if (auto* reply = std::get_if<ApiReply>(&plan); reply != nullptr && !reply->asset) {
    reply->endpoint = endpoint_of(request.target);
  }
  return plan;
}

bool host_allowed(std::string_view host) {
  if (host.empty()) return true;  // HTTP/1.0 clients send none; a browser always does
  std::string_view name = host;
  if (name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = name.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    name = name.substr(1, close - 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name == "localhost") return true;
  boost::system::error_code ec;
  boost::asio::ip::make_address(std::string(name), ec);
  return !ec;
}

}  // namespace xrayd
