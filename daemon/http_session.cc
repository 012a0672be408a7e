#include "daemon/http_session.h"

#include <array>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "daemon/ack_waiter.h"
#include "daemon/http_api.h"

namespace xrayd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using xray::Errc;

constexpr std::size_t kHeaderLimitBytes = 16 * 1024;
// The read buffer holds a header and a chunk of body at most: a body passes
// through it into the request, so a connection's own buffer stays small
// (docs/operations.md counts it per connection).
constexpr std::size_t kReadChunkBytes = 16 * 1024;

}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket&& socket, SessionContext& context)
    : stream_(std::move(socket)),
      context_(context),
      buffer_(kHeaderLimitBytes + kReadChunkBytes),
      linger_(stream_.get_executor()) {
  context_.metrics.connections_open.fetch_add(1, std::memory_order_relaxed);
}

HttpSession::~HttpSession() {
  context_.registry.remove(registry_id_);
  context_.metrics.connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void HttpSession::start() {
  registry_id_ = context_.registry.add(weak_from_this());
  asio::co_spawn(stream_.get_executor(), run(),
                 [self = shared_from_this()](std::exception_ptr e) { self->log_exception(e); });
}

void HttpSession::log_exception(std::exception_ptr e) {
  // Session boundary (STYLE §4): log and close; nothing acknowledged is lost
  // because acks follow commits.
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    context_.log.error("http", "session ended by exception: ", ex.what());
  }
}

void HttpSession::shutdown(Clock::time_point deadline) {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), deadline] {
    if (self->stopping_ || self->done_) return;
    self->stopping_ = true;
    self->deadline_ = deadline;
    asio::co_spawn(self->stream_.get_executor(), self->close_when_quiet(),
                   [self](std::exception_ptr e) { self->log_exception(e); });
  });
}

asio::awaitable<void> HttpSession::close_when_quiet() {
  std::uint64_t seen = requests_;
  for (;;) {
    linger_.expires_after(kShutdownLinger);
    co_await linger_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (done_) co_return;
    // Invariant 8: close only a connection with nothing in progress and no
    // byte of a next request received; a request that does arrive is answered.
    if (idle_ && buffer_.size() == 0 && requests_ == seen) {
      stream_.cancel();
      co_return;
    }
    seen = requests_;
  }
}

asio::awaitable<void> HttpSession::lingering_close() {
  constexpr std::chrono::seconds kLingerMax{5};
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  auto config = context_.config.get();
  // The unread body is at most max_body_bytes; anything beyond is not worth waiting for.
  std::size_t budget = config->max_body_bytes + kHeaderLimitBytes;
  std::array<char, 16 * 1024> sink;
  stream_.expires_after(
      std::min<std::chrono::steady_clock::duration>(config->body_timeout, kLingerMax));
  while (budget > 0) {
    auto [read_ec, n] =
        co_await stream_.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;
    budget -= std::min(budget, n);
  }
}

asio::awaitable<void> HttpSession::run() {
  bool first = true;
  bool unread_input = false;  // the client may still be sending what we did not read
  for (;;) {
    auto config = context_.config.get();
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(kHeaderLimitBytes);
    // The body limit is checked below against max_body_bytes, with a 413 that
    // names it; Beast's own default (1 MiB) would answer 400 first.
    header_parser.body_limit(boost::none);
    auto header_deadline = Clock::now() + (first ? config->header_timeout : config->idle_timeout);
    if (stopping_) header_deadline = std::min(header_deadline, deadline_);
    stream_.expires_at(header_deadline);
    idle_ = true;
    auto [read_ec, header_bytes] = co_await http::async_read_header(
        stream_, buffer_, header_parser, asio::as_tuple(asio::use_awaitable));
    idle_ = false;
    first = false;
    if (read_ec) {
      if (read_ec == beast::error::timeout) {
        (buffer_.size() > 0 ? context_.metrics.timeouts_header : context_.metrics.timeouts_idle)
            .fetch_add(1, std::memory_order_relaxed);
        break;
      }
      if (read_ec == http::error::end_of_stream || read_ec == asio::error::eof ||
          read_ec == asio::error::operation_aborted || read_ec == asio::error::connection_reset) {
        break;
      }
      // Malformed request or header too large: answer once, then close.
      auto res = error_response(Errc::kBadRequest, "malformed HTTP request: " + read_ec.message(),
                                "", 11, false);
      stream_.expires_after(config->body_timeout);
      co_await http::async_write(stream_, res, asio::as_tuple(asio::use_awaitable));
      unread_input = true;
      break;
    }
    ++requests_;
    auto received_at = std::chrono::steady_clock::now();
    const auto& req = header_parser.get();
    unsigned version = req.version();
    bool keep_alive = req.keep_alive() && !stopping_;
    Route route = route_for(req.method(), req.target());

    HttpResponse res;
    bool must_close = false;  // the body was not read, so the stream is out of step
    if (route != Route::kIngest) {
      bool has_body = header_parser.content_length().value_or(0) > 0 || header_parser.chunked();
      must_close = has_body;
      switch (route) {
        case Route::kHealth:
          res = text_response(200, "application/json", R"({"status":"ok"})", version, keep_alive);
          break;
        case Route::kReady:
          res = context_.ready()
                    ? text_response(200, "application/json", R"({"status":"ready"})", version,
                                    keep_alive)
                    : error_response(context_.ingest.stopping() || stopping_
                                         ? Errc::kShuttingDown
                                         : Errc::kDatabaseUnavailable,
                                     context_.ingest.stopping() || stopping_
                                         ? "not ready: shutting down"
                                         : "not ready: no writer is connected to PostgreSQL",
                                     "", version, keep_alive);
          break;
        case Route::kMetrics:
          res = text_response(200, "text/plain; version=0.0.4",
                              context_.metrics.render(context_.gauges()), version, keep_alive);
          break;
        case Route::kMethodNotAllowed:
          res = error_response(Errc::kMethodNotAllowed,
                               std::string("method ") + std::string(req.method_string()) +
                                   " not allowed on " + std::string(req.target()),
                               "", version, keep_alive);
          break;
        default:
          res = error_response(Errc::kNotFound, "no route for " + std::string(req.target()), "",
                               version, keep_alive);
          break;
      }
    } else {
      must_close = true;  // until the body has been read
      auto format = body_format(req[http::field::content_type]);
      auto length = header_parser.content_length();
      if (!format) {
        res =
            error_response(Errc::kUnsupportedMediaType,
                           "Content-Type must be application/json or application/x-ndjson, got '" +
                               std::string(req[http::field::content_type]) + "'",
                           "Content-Type", version, false);
      } else if (!length) {
        res = text_response(411, "application/json",
                            R"({"error":"Content-Length is required","code":"bad_request"})",
                            version, false);
      } else if (*length > config->max_body_bytes) {
        context_.metrics.body_too_large.fetch_add(1, std::memory_order_relaxed);
        res = error_response(Errc::kBodyTooLarge,
                             "body of " + std::to_string(*length) +
                                 " bytes exceeds max_body_bytes (" +
                                 std::to_string(config->max_body_bytes) + ")",
                             "max_body_bytes", version, false);
      } else if (context_.ingest.stopping() || stopping_) {
        // Invariant 8: a request that arrives once we are stopping gets a definite answer.
        context_.metrics.refused_shutdown.fetch_add(1, std::memory_order_relaxed);
        res = error_response(Errc::kShuttingDown, "the daemon is shutting down; retry", "", version,
                             false);
      } else if (auto lease = context_.ingest.admit(static_cast<std::size_t>(*length)); !lease) {
        // Invariant 3: refuse before reading the body, never drop after.
        res = error_response(Errc::kBusy, "over memory budget (memory_limit); retry later",
                             "memory_limit", version, false);
      } else {
        BodyInProgress in_progress(context_.metrics);
        http::request_parser<http::string_body> body_parser(std::move(header_parser));
        body_parser.body_limit(config->max_body_bytes);
        stream_.expires_after(config->body_timeout);
        auto [body_ec, body_bytes] = co_await http::async_read(stream_, buffer_, body_parser,
                                                               asio::as_tuple(asio::use_awaitable));
        if (body_ec) {
          if (body_ec == beast::error::timeout) {
            context_.metrics.timeouts_body.fetch_add(1, std::memory_order_relaxed);
          }
          break;
        }
        must_close = false;
        std::vector<NdjsonLine> lines;
        std::shared_ptr<AckWaiter> waiter;
        {
          std::string body = std::move(body_parser.get().body());
          if (*format == BodyFormat::kJson) {
            lines.push_back({1, body});
          } else {
            lines = split_ndjson(body);
          }
          waiter = std::make_shared<AckWaiter>(stream_.get_executor(), lines.size());
          for (std::size_t i = 0; i < lines.size(); ++i) {
            context_.ingest.submit(lines[i].text, Transport::kHttp, received_at,
                                   waiter->callback_for(i));
          }
          for (auto& line : lines) line.text = {};  // the body is freed below
        }
        lease->reset();  // the body is gone; records hold their own leases
        if (lines.empty()) {
          res = error_response(Errc::kInvalidSnapshot, "the body holds no snapshot", "", version,
                               keep_alive);
        } else {
          // Invariant 1: answer only once every snapshot is committed or refused.
          co_await waiter->wait();
          res = *format == BodyFormat::kJson
                    ? single_result_response(waiter->results()[0], version, keep_alive)
                    : ndjson_results_response(lines, waiter->results(), version, keep_alive);
        }
      }
    }
    if (must_close) res.keep_alive(false);
    // Stopping began while this request was in progress: say so, so that the
    // client sends its next request elsewhere instead of into a closing socket.
    if (stopping_) res.keep_alive(false);
    if (req.method() == http::verb::head) res.body().clear();
    bool close_after = !res.keep_alive();
    stream_.expires_after(config->body_timeout);
    auto [write_ec, written] =
        co_await http::async_write(stream_, res, asio::as_tuple(asio::use_awaitable));
    if (write_ec) break;
    if (close_after) {
      unread_input = must_close;
      break;
    }
  }
  if (unread_input) co_await lingering_close();
  done_ = true;
  linger_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace xrayd
