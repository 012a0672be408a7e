// ExplorerApi: the decision explorer's HTTP surface (docs/api.md) as
// functions from request facts to what to do, and from query rows to the
// response. explorer_session.cc does the I/O; the SQL comes from
// explorer_queries.h and filter_compiler.h.
//
//   GET  /v1/executions                     list, filters, keyset pages
//   GET  /v1/executions/{app}/{id}          one execution, its steps and evaluations
//   POST /v1/query                          the filter language over a target
//   GET  /v1/insights/eliminations          steps that eliminated > min_ratio of candidates
//   GET  /v1/insights/failed-candidates     candidates that failed, by reason
//   GET  /v1/pipelines                      (app, pipeline) pairs for menus
//   GET  /v1/steps/shape                    field paths and types of a step's JSON
//   GET  /v1/analytics/pipeline             runs per bucket, failure rate, funnel
//   GET  /v1/stream                         Server-Sent Events of committed executions
//   GET  / and /<file>                      the embedded dashboard
//
// plan_request() is pure: it validates everything it reads (unknown or
// repeated parameters, types, ranges, cursors, filter paths and operators)
// and answers a 4xx naming the field, or returns the statement to run with
// its bind parameters. render() is pure too. run_query() is the one piece
// that does I/O: it runs on a query pool thread.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "daemon/errors.h"
#include "daemon/explorer_queries.h"
#include "daemon/metrics.h"
#include "daemon/pg_connection.h"
#include "daemon/query_pool.h"
#include "daemon/stream_hub.h"
#include "daemon/timestamp.h"

namespace xrayd {

// The largest request body the explorer reads (POST /v1/query).
inline constexpr std::size_t kExplorerMaxBodyBytes = 64 * 1024;
// A page stops early, with a next_cursor, once its items exceed this.
inline constexpr std::size_t kMaxPageBytes = 8 << 20;
inline constexpr std::size_t kDefaultLimit = 50;
inline constexpr std::size_t kDefaultEvaluationsLimit = 5000;
inline constexpr std::size_t kMaxEvaluationsLimit = 100'000;
inline constexpr std::size_t kDefaultShapeSample = 200;
inline constexpr std::size_t kMaxShapeSample = 1000;
inline constexpr std::size_t kMaxAnalyticsBuckets = 10'000;
// Longest text parameter (app, q, reason, meta.*, ...).
inline constexpr std::size_t kMaxParamBytes = 1024;

// A response, status to body. Security headers are added by the session.
struct ApiReply {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  ExplorerOutcome outcome = ExplorerOutcome::kOk;
  std::string allow;   // for 405: the methods the route takes
  bool asset = false;  // a dashboard file (cacheable, no-cache), not an API response (no-store)
  // For the metrics: the API endpoint answered, if the request named one.
  std::optional<ExplorerEndpoint> endpoint;
};

// A statement for the query pool, and how to turn its rows into the reply.
struct QueryPlan {
  enum class Kind { kList, kExecution, kPipelines, kShape, kAnalytics };
  ExplorerEndpoint endpoint = ExplorerEndpoint::kExecutions;
  Kind kind = Kind::kList;
  std::string sql;
  std::vector<std::string> params;
  ListItem item = ListItem::kExecution;  // kList
  std::string list_key;                  // kList: the response member holding the items
  std::size_t limit = 0;                 // kList: page size (the statement asks one more)
  std::string step;                      // kShape: the step name
  std::string missing;                   // kExecution: what 404 names
};

struct StreamPlan {
  StreamFilter filter;
};

// What the session must do: answer now, run a query, or start a stream.
using Plan = std::variant<ApiReply, QueryPlan, StreamPlan>;

struct ApiRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string_view target;
  std::string_view content_type;
  std::string_view body;
};

struct ApiLimits {
  std::size_t max_rows = 500;  // query_max_rows
};

// Pure. `now` is the reference for defaults such as analytics' last 24 h.
Plan plan_request(const ApiRequest& request, const ApiLimits& limits, Timestamp now);

// Pure: the reply for `rows` returned by `plan.sql`.
ApiReply render(const QueryPlan& plan, const PgRows& rows);

// Query pool thread: runs the plan's statement on `conn` and renders it, or
// maps the failure (504 query_timeout, 503 database_unavailable, 500).
ApiReply run_query(const QueryPlan& plan, PgConnection& conn);

// The reply for a query the pool could not run.
ApiReply reply_for(QueryPool::JobStatus status);

// {"error", "code", "field"} with the code's status.
ApiReply error_reply(xray::Errc code, std::string_view message, std::string_view field = {});

// DNS rebinding defence: true when `host` (the Host header) names the
// machine itself — an IP literal or "localhost", with an optional port — so a
// web page on another origin cannot read the API through a name it controls.
bool host_allowed(std::string_view host);

}  // namespace xrayd
