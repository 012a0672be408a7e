#include "daemon/explorer_session.h"

#include <array>
#include <functional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "daemon/timestamp.h"

namespace xrayd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using xray::Errc;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kHeaderLimitBytes = 16 * 1024;

// On every response: the page may not be framed, sniffed into another type,
// or leak its address; it may load only its own scripts and styles (no
// inline script: the dashboard is built for this policy, docs/api.md).
void add_security_headers(http::fields& h) {
  h.set(http::field::server, "xrayd");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("X-Frame-Options", "DENY");
  h.set("Referrer-Policy", "no-referrer");
  h.set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
  h.set("Cross-Origin-Resource-Policy", "same-origin");
}

Timestamp wall_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

}  // namespace

ExplorerSession::ExplorerSession(asio::ip::tcp::socket&& socket, ExplorerContext& context)
    : stream_(std::move(socket)),
      context_(context),
      buffer_(kHeaderLimitBytes + kExplorerMaxBodyBytes),
      wake_(stream_.get_executor()) {
  context_.metrics.explorer_connections_open.fetch_add(1, std::memory_order_relaxed);
}

ExplorerSession::~ExplorerSession() {
  context_.registry.remove(registry_id_);
  context_.metrics.explorer_connections_open.fetch_sub(1, std::memory_order_relaxed);
}

void ExplorerSession::start() {
  registry_id_ = context_.registry.add(weak_from_this());
  asio::co_spawn(stream_.get_executor(), run(),
                 [self = shared_from_this()](std::exception_ptr e) { self->log_exception(e); });
}

void ExplorerSession::log_exception(std::exception_ptr e) {
  // Session boundary (STYLE §4): log and close.
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    context_.log.error("explorer", "session ended by exception: ", ex.what());
  }
}

void ExplorerSession::shutdown(Clock::time_point) {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->stopping_) return;
    self->stopping_ = true;
    // Nothing is lost by closing a connection between requests or a stream;
    // a query in progress is still answered.
    if (self->idle_) self->stream_.cancel();
    if (self->streaming_) self->wake_.cancel();
  });
}

asio::awaitable<bool> ExplorerSession::respond(ApiReply& reply, unsigned version, bool keep_alive,
                                               bool head) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  add_security_headers(res);
  res.set(http::field::content_type, reply.content_type);
  res.set(http::field::cache_control, reply.asset ? "no-cache" : "no-store");
  if (reply.status == 503) res.set(http::field::retry_after, "1");
  if (!reply.allow.empty()) res.set(http::field::allow, reply.allow);
  res.keep_alive(keep_alive && !stopping_);
  res.body() = std::move(reply.body);
  res.prepare_payload();
  if (head) res.body().clear();
  stream_.expires_after(context_.config.get()->body_timeout);
  auto [ec, n] = co_await http::async_write(stream_, res, kAsTuple);
  co_return !ec;
}

asio::awaitable<bool> ExplorerSession::write_text(const std::string& text) {
  stream_.expires_after(context_.config.get()->body_timeout);
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(text), kAsTuple);
  // The stream's timer would also end watch_peer()'s read; disarm it between writes.
  stream_.expires_never();
  co_return !ec;
}

asio::awaitable<void> ExplorerSession::watch_peer() {
  std::array<char, 512> sink;
  for (;;) {
    // On the socket, not the stream: the stream's write deadline must not end this read.
    auto [ec, n] = co_await stream_.socket().async_read_some(asio::buffer(sink), kAsTuple);
    if (ec) break;
  }
  peer_closed_ = true;
  wake_.cancel();
}

asio::awaitable<void> ExplorerSession::stream(const StreamPlan& plan, unsigned version) {
  auto config = context_.config.get();
  auto self = shared_from_this();
  std::weak_ptr<ExplorerSession> weak = self;
  auto executor = stream_.get_executor();
  auto subscription =
      context_.hub.subscribe(plan.filter, config->explorer_max_streams, [weak, executor] {
        asio::post(executor, [weak] {
          if (auto s = weak.lock()) s->wake_.cancel();
        });
      });
  if (subscription == nullptr) {
    context_.metrics.count_request(ExplorerEndpoint::kStream, ExplorerOutcome::kBusy);
    ApiReply busy = error_reply(Errc::kBusy,
                                "too many live streams (explorer_max_streams = " +
                                    std::to_string(config->explorer_max_streams) + "); retry",
                                "explorer_max_streams");
    co_await respond(busy, version, false, false);
    co_return;
  }
  context_.metrics.count_request(ExplorerEndpoint::kStream, ExplorerOutcome::kOk);
  streaming_ = true;
  http::response<http::empty_body> res{http::status::ok, version};
  add_security_headers(res);
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-store");
  // Proxies (nginx) must pass events on as they come.
  res.set("X-Accel-Buffering", "no");
  // No length: the body ends when the connection does.
  res.keep_alive(false);
  http::response_serializer<http::empty_body> serializer(res);
  stream_.expires_after(config->body_timeout);
  auto [header_ec, header_bytes] = co_await http::async_write_header(stream_, serializer, kAsTuple);
  stream_.expires_never();
  if (header_ec) co_return;
  asio::co_spawn(executor, watch_peer(), [self](std::exception_ptr e) { self->log_exception(e); });
  // The comment tells the client the subscription is in place.
  const std::string hello = ": subscribed\nretry: 2000\n\n";
  const std::string ping = ": ping\n\n";
  if (!co_await write_text(hello)) co_return;
  auto next_ping = Clock::now() + kPingInterval;
  while (!peer_closed_ && !stopping_) {
    StreamSubscriber::Batch batch = subscription->subscriber().take();
    std::string text;
    if (batch.dropped > 0 || batch.gap) {
      text += "event: lagged\ndata: {\"dropped\":" + std::to_string(batch.dropped) + "}\n\n";
    }
    for (const auto& event : batch.events) text += *event;
    if (!text.empty()) {
      if (!co_await write_text(text)) break;
      continue;
    }
    if (Clock::now() >= next_ping) {
      if (!co_await write_text(ping)) break;
      next_ping = Clock::now() + kPingInterval;
      continue;
    }
    wake_.expires_at(next_ping);
    co_await wake_.async_wait(kAsTuple);
  }
  streaming_ = false;
}

asio::awaitable<void> ExplorerSession::lingering_close() {
  // Closing with unread input would reset the connection, and the client
  // could lose the answer before reading it: stop sending, then read and drop
  // what it still sends, for a bounded time and number of bytes.
  constexpr std::chrono::seconds kLinger{2};
  constexpr std::size_t kLingerBytes = 1 << 20;
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::array<char, 16 * 1024> sink;
  std::size_t left = kLingerBytes;
  stream_.expires_after(kLinger);
  while (left > 0) {
    auto [read_ec, n] = co_await stream_.async_read_some(asio::buffer(sink), kAsTuple);
    if (read_ec) break;
    left -= std::min(left, n);
  }
}

asio::awaitable<void> ExplorerSession::run() {
  bool first = true;
  bool unread_input = false;  // the client may still be sending what we did not read
  for (;;) {
    auto config = context_.config.get();
    if (stopping_) break;
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(kHeaderLimitBytes);
    header_parser.body_limit(boost::none);
    stream_.expires_after(first ? config->header_timeout : config->idle_timeout);
    idle_ = true;
    auto [read_ec, header_bytes] =
        co_await http::async_read_header(stream_, buffer_, header_parser, kAsTuple);
    idle_ = false;
    first = false;
    if (read_ec) {
      if (read_ec == beast::error::timeout || read_ec == http::error::end_of_stream ||
          read_ec == asio::error::eof || read_ec == asio::error::operation_aborted ||
          read_ec == asio::error::connection_reset) {
        break;
      }
      ApiReply malformed =
          error_reply(Errc::kBadRequest, "malformed HTTP request: " + read_ec.message());
      co_await respond(malformed, 11, false, false);
      unread_input = true;
      break;
    }
    const auto received = Clock::now();
    const auto& header = header_parser.get();
    const unsigned version = header.version();
    const bool head = header.method() == http::verb::head;
    bool keep_alive = header.keep_alive();
    const bool has_body = header_parser.content_length().value_or(0) > 0 || header_parser.chunked();
    if (!host_allowed(header[http::field::host])) {
      // Before the body is read: the connection then closes (its body is unread).
      ApiReply forbidden = error_reply(Errc::kForbidden,
                                       "Host '" + std::string(header[http::field::host]) +
                                           "' is not this machine; use an IP address or localhost",
                                       "Host");
      co_await respond(forbidden, version, keep_alive && !has_body, head);
      if (has_body || !keep_alive) {
        unread_input = has_body;
        break;
      }
      continue;
    }
    ApiReply too_large =
        error_reply(Errc::kBodyTooLarge, "the request body is larger than " +
                                             std::to_string(kExplorerMaxBodyBytes) + " bytes");
    if (header_parser.content_length().value_or(0) > kExplorerMaxBodyBytes) {
      co_await respond(too_large, version, false, head);
      unread_input = true;
      break;
    }
    std::string body;
    std::string target(header.target());
    std::string content_type(header[http::field::content_type]);
    const http::verb method = header.method();
    if (has_body) {
      http::request_parser<http::string_body> body_parser(std::move(header_parser));
      body_parser.body_limit(kExplorerMaxBodyBytes);
      stream_.expires_after(config->body_timeout);
      auto [body_ec, body_bytes] =
          co_await http::async_read(stream_, buffer_, body_parser, kAsTuple);
      if (body_ec == http::error::body_limit) {
        co_await respond(too_large, version, false, head);
        unread_input = true;
        break;
      }
      if (body_ec) break;
      body = std::move(body_parser.get().body());
    }
    ApiRequest request{method, target, content_type, body};
    Plan plan = plan_request(request, ApiLimits{config->query_max_rows}, wall_now());
    if (auto* stream_plan = std::get_if<StreamPlan>(&plan)) {
      // The stream takes the rest of the connection.
      if (stopping_) {
        ApiReply stopping = error_reply(Errc::kShuttingDown, "the daemon is shutting down");
        co_await respond(stopping, version, false, head);
      } else {
        co_await stream(*stream_plan, version);
      }
      break;
    }
    ApiReply reply;
    if (auto* query = std::get_if<QueryPlan>(&plan)) {
      const ExplorerEndpoint endpoint = query->endpoint;
      // Named, not temporaries of the co_await expression: GCC 12 mishandles
      // the lifetime of non-trivial temporaries across a suspension (a use
      // after free, seen here). Hence also the references taken by respond()
      // and write_text(): their arguments are named locals of the caller.
      std::function<ApiReply(PgConnection&)> work =
          [plan = std::make_shared<const QueryPlan>(std::move(*query))](PgConnection& conn) {
            return run_query(*plan, conn);
          };
      std::function<ApiReply(QueryPool::JobStatus)> fallback = [](QueryPool::JobStatus status) {
        return reply_for(status);
      };
      auto pending = async_query<ApiReply>(context_.pool, std::move(work), std::move(fallback),
                                           asio::use_awaitable);
      reply = co_await std::move(pending);
      reply.endpoint = endpoint;
      context_.metrics.explorer_query_seconds.observe_seconds(Clock::now() - received);
      if (reply.outcome == ExplorerOutcome::kFailed) {
        context_.log.error("explorer", "query failed on ", target, ": ", reply.body);
      }
    } else {
      reply = std::move(std::get<ApiReply>(plan));
    }
    if (reply.endpoint) context_.metrics.count_request(*reply.endpoint, reply.outcome);
    if (!co_await respond(reply, version, keep_alive, head)) break;
    if (!keep_alive || stopping_) break;
  }
  if (unread_input) co_await lingering_close();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

}  // namespace xrayd
