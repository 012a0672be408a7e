// HttpApi: the HTTP surface of xrayd as pure functions from request facts to
// responses (Beast's handle_request). No I/O, no threads: http_session.cc
// reads and writes, this file decides what to answer.
//
//   POST /v1/executions   application/json (one snapshot) or
//                         application/x-ndjson (one snapshot per line)
//   GET  /healthz         200 while the process serves
//   GET  /readyz          200 when a writer holds a PostgreSQL connection, else 503
//   GET  /metrics         Prometheus text format
//
// Errors are JSON {"error": "...", "code": "...", "field": "..."} with the
// status errors.cc maps the code to (DESIGN §4, docs/protocol.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include "daemon/errors.h"
#include "daemon/ingest.h"

namespace xrayd {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

enum class Route {
  kIngest,   // POST /v1/executions
  kHealth,   // GET /healthz
  kReady,    // GET /readyz
  kMetrics,  // GET /metrics
  kNotFound,
  kMethodNotAllowed,
};

Route route_for(boost::beast::http::verb method, std::string_view target);

enum class BodyFormat { kJson, kNdjson };

// Content-Type → body format; kUnsupportedMediaType for anything else.
xray::Result<BodyFormat> body_format(std::string_view content_type);

// One NDJSON line: its 1-based number and its text. Blank lines are skipped.
struct NdjsonLine {
  std::size_t number;
  std::string_view text;
};
std::vector<NdjsonLine> split_ndjson(std::string_view body);

// A JSON error response; 503s carry Retry-After.
HttpResponse error_response(xray::Errc code, std::string_view message, std::string_view field,
                            unsigned version, bool keep_alive);

// The answer to a POST of one snapshot: 200 with {"app","id","status":"committed"},
// or the error's status and body.
HttpResponse single_result_response(const SnapshotResult& result, unsigned version,
                                    bool keep_alive);

// The answer to an NDJSON POST, one result per line (line numbers from `lines`).
// 200 when every line committed, 400 when none did and all were invalid,
// 503 when none did and some were refused/failed (retry), else 207.
HttpResponse ndjson_results_response(const std::vector<NdjsonLine>& lines,
                                     const std::vector<SnapshotResult>& results, unsigned version,
                                     bool keep_alive);

HttpResponse text_response(unsigned status, std::string_view content_type, std::string body,
                           unsigned version, bool keep_alive);

}  // namespace xrayd
