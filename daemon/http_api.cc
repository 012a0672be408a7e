#include "daemon/http_api.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace xrayd {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

std::string_view strip_params(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view base = content_type.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return base;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const char* result_status(const SnapshotResult& r) {
  if (!r.error) return "committed";
  if (r.error.category() == xray::xray_category()) {
    switch (xray::ack_status(static_cast<xray::Errc>(r.error.value()))) {
      case xray::wire::AckStatus::kBusy:
        return "busy";
      case xray::wire::AckStatus::kFailed:
        return "failed";
      default:
        return "invalid";
    }
  }
  return "failed";
}

xray::Errc errc_of(const boost::system::error_code& ec) {
  if (ec.category() == xray::xray_category()) return static_cast<xray::Errc>(ec.value());
  return xray::Errc::kDatabaseUnavailable;
}

json::object result_object(const SnapshotResult& r) {
  json::object o;
  if (!r.app.empty()) o["app"] = r.app;
  if (!r.id.empty()) o["id"] = r.id;
  o["status"] = result_status(r);
  if (r.error) {
    o["error"] = r.message;
    o["code"] = xray::errc_name(errc_of(r.error));
    if (!r.field.empty()) o["field"] = r.field;
  }
  return o;
}

HttpResponse json_response(unsigned status, const json::value& body, unsigned version,
                           bool keep_alive) {
  return text_response(status, "application/json", json::serialize(body), version, keep_alive);
}

}  // namespace

Route route_for(http::verb method, std::string_view target) {
  auto query = target.find('?');
  std::string_view path = target.substr(0, query);
  if (path == "/v1/executions") {
    return method == http::verb::post ? Route::kIngest : Route::kMethodNotAllowed;
  }
  Route get_route = Route::kNotFound;
  if (path == "/healthz") {
    get_route = Route::kHealth;
  } else if (path == "/readyz") {
    get_route = Route::kReady;
  } else if (path == "/metrics") {
    get_route = Route::kMetrics;
  } else {
    return Route::kNotFound;
  }
  return method == http::verb::get || method == http::verb::head ? get_route
                                                                 : Route::kMethodNotAllowed;
}

xray::Result<BodyFormat> body_format(std::string_view content_type) {
  std::string_view base = strip_params(content_type);
  if (iequals(base, "application/json")) return BodyFormat::kJson;
  if (iequals(base, "application/x-ndjson") || iequals(base, "application/ndjson")) {
    return BodyFormat::kNdjson;
  }
  return xray::Errc::kUnsupportedMediaType;
}

std::vector<NdjsonLine> split_ndjson(std::string_view body) {
  std::vector<NdjsonLine> lines;
  std::size_t number = 0;
  while (!body.empty()) {
    ++number;
    auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    lines.push_back({number, line});
  }
  return lines;
}

HttpResponse text_response(unsigned status, std::string_view content_type, std::string body,
                           unsigned version, bool keep_alive) {
  HttpResponse res{static_cast<http::status>(status), version};
  res.set(http::field::server, "xrayd");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse error_response(xray::Errc code, std::string_view message, std::string_view field,
                            unsigned version, bool keep_alive) {
  json::object body;
  body["error"] = message;
  body["code"] = xray::errc_name(code);
  if (!field.empty()) body["field"] = field;
  int status = xray::http_status(code);
  HttpResponse res = json_response(static_cast<unsigned>(status), body, version, keep_alive);
  // Invariant 3: a refusal tells the client when to come back.
  if (status == 503) res.set(http::field::retry_after, "1");
  return res;
}

HttpResponse single_result_response(const SnapshotResult& result, unsigned version,
                                    bool keep_alive) {
  if (result.error) {
    xray::Errc code = errc_of(result.error);
    HttpResponse res = json_response(static_cast<unsigned>(xray::http_status(code)),
                                     result_object(result), version, keep_alive);
    if (xray::http_status(code) == 503) res.set(http::field::retry_after, "1");
    return res;
  }
  return json_response(200, result_object(result), version, keep_alive);
}

HttpResponse ndjson_results_response(const std::vector<NdjsonLine>& lines,
                                     const std::vector<SnapshotResult>& results, unsigned version,
                                     bool keep_alive) {
  json::array items;
  std::size_t committed = 0;
  std::size_t invalid = 0;
  std::size_t retry = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    SnapshotResult r = results[i];
    if (r.error && !r.message.empty()) {
      r.message = "line " + std::to_string(lines[i].number) + ": " + r.message;
    }
    json::object o = result_object(r);
    o["line"] = lines[i].number;
    items.push_back(std::move(o));
    if (!r.error) {
      ++committed;
    } else if (std::string_view(result_status(r)) == "invalid") {
      ++invalid;
    } else {
      ++retry;
    }
  }
  unsigned status = 207;
  if (committed == results.size()) {
    status = 200;
  } else if (committed == 0 && retry == 0) {
    status = 400;
  } else if (committed == 0 && invalid == 0) {
    status = 503;
  }
  json::object body;
  body["committed"] = committed;
  body["invalid"] = invalid;
  body["retry"] = retry;
  body["results"] = std::move(items);
  HttpResponse res = json_response(status, body, version, keep_alive);
  if (status == 503) res.set(http::field::retry_after, "1");
  return res;
}

}  // namespace xrayd
