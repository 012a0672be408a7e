// ExplorerSession: one HTTP/1.1 connection on the explorer listener, as a
// coroutine on its own strand.
//
// Per request: read the header within header_timeout (idle_timeout between
// keep-alive requests; 16 KiB at most), refuse a Host that is not the
// machine itself (403, DNS rebinding), read a body of at most
// kExplorerMaxBodyBytes (64 KiB; 413 beyond) within body_timeout, plan it
// (explorer_api.h), and answer: at once, after the query pool ran its
// statement (the io thread awaits, never blocks), or as a stream. Every
// response carries the security headers (explorer_session.cc). A deadline
// that passes closes the connection.
//
// Streams (GET /v1/stream): the session subscribes to the StreamHub (503 at
// explorer_max_streams), answers with text/event-stream and writes the
// events queued for it as they come, a `: ping` comment every kPingInterval,
// and `event: lagged` when it lost events. A write that takes longer than
// body_timeout, the client closing, or shutdown ends the stream and the
// connection.
//
// Shutdown: a connection waiting for a request closes at once, a stream
// ends, a query in progress is answered (the pool answers 503 once it stops)
// with `Connection: close`.
#pragma once

#include <chrono>
#include <exception>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "daemon/explorer_api.h"
#include "daemon/live_config.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/query_pool.h"
#include "daemon/session_registry.h"
#include "daemon/stream_hub.h"

namespace xrayd {

// What every explorer session needs, handed to the explorer listener by
// service.cc. All references outlive every session.
struct ExplorerContext {
  const LiveConfig& config;
  QueryPool& pool;
  StreamHub& hub;
  Metrics& metrics;
  Logger& log;
  SessionRegistry& registry;  // the explorer's own, so shutdown reaches its sessions
};

class ExplorerSession : public Session, public std::enable_shared_from_this<ExplorerSession> {
 public:
  static constexpr std::chrono::seconds kPingInterval{15};

  // `socket` must use a strand executor.
  ExplorerSession(boost::asio::ip::tcp::socket&& socket, ExplorerContext& context);
  ~ExplorerSession() override;

  // Starts the session's coroutine; the session keeps itself alive until it ends.
  void start();
  void shutdown(Clock::time_point deadline) override;

 private:
  boost::asio::awaitable<void> run();
  // Strand: half-closes, then reads and drops input until EOF, a byte cap or a
  // short deadline, so an answer given before the body was read reaches the client.
  boost::asio::awaitable<void> lingering_close();
  // Strand: writes `reply` (its body is consumed); false when the connection
  // failed. `reply` must outlive the co_await (a named local of the caller).
  boost::asio::awaitable<bool> respond(ApiReply& reply, unsigned version, bool keep_alive,
                                       bool head);
  // Strand: the live stream, until the client goes, a write stalls or shutdown.
  boost::asio::awaitable<void> stream(const StreamPlan& plan, unsigned version);
  // Strand, during a stream: reads (and drops) until the client closes, then wakes stream().
  boost::asio::awaitable<void> watch_peer();
  // Strand: writes `text` (which must outlive the co_await) within body_timeout.
  boost::asio::awaitable<bool> write_text(const std::string& text);
  void log_exception(std::exception_ptr e);

  boost::beast::tcp_stream stream_;
  ExplorerContext& context_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer wake_;  // strand: a stream's wait for events or its next ping
  std::uint64_t registry_id_ = 0;
  bool idle_ = true;          // strand: waiting for a request's first bytes
  bool streaming_ = false;    // strand: in stream()
  bool stopping_ = false;     // strand: shutdown() was called
  bool peer_closed_ = false;  // strand: the streaming client closed its side
};

}  // namespace xrayd
