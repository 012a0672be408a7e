// HttpSession: one HTTP/1.1 connection (keep-alive), as a coroutine on its
// own strand.
//
// Per request: read the header within header_timeout (idle_timeout between
// keep-alive requests), check route, media type and Content-Length against
// max_body_bytes, take the body's bytes from the budget (or answer 503 and
// close: invariant 3), read the body within body_timeout, submit each
// snapshot, wait for every snapshot's answer (after commit: invariant 1) and
// respond. A deadline that passes closes the connection, so a client
// trickling bytes never holds more than one connection slot and its own
// bounded buffers.
//
// A response that leaves a request body unread (a refusal before the body)
// ends with a lingering close: the session stops sending and reads and drops
// what the client still sends for a bounded time, so that closing does not
// reset the connection and destroy the response before the client read it.
//
// Shutdown (invariant 8): a request whose header was read before shutdown()
// is finished and answered, with `Connection: close`; a request read later
// is answered 503 shutting_down; an idle connection closes once it has been
// quiet for Session::kShutdownLinger, and every read ends by the deadline.
#pragma once

#include <exception>
#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "daemon/session_context.h"

namespace xrayd {

class HttpSession : public Session, public std::enable_shared_from_this<HttpSession> {
 public:
  // `socket` must use a strand executor.
  HttpSession(boost::asio::ip::tcp::socket&& socket, SessionContext& context);
  ~HttpSession() override;

  // Starts the session's coroutine; the session keeps itself alive until it ends.
  void start();
  void shutdown(Clock::time_point deadline) override;

 private:
  boost::asio::awaitable<void> run();
  // Strand: half-closes, then reads and drops input until EOF, a byte cap or a
  // short deadline, so the response just written reaches the client.
  boost::asio::awaitable<void> lingering_close();
  // Strand, once stopping: closes the connection when it has had no request
  // in progress and received nothing for a whole kShutdownLinger.
  boost::asio::awaitable<void> close_when_quiet();
  // Session boundary: logs an exception that ended one of the coroutines.
  void log_exception(std::exception_ptr e);

  boost::beast::tcp_stream stream_;
  SessionContext& context_;
  boost::beast::flat_buffer buffer_;  // strand: bytes read and not yet parsed
  boost::asio::steady_timer linger_;  // strand: close_when_quiet's timer
  std::uint64_t registry_id_ = 0;
  std::uint64_t requests_ = 0;                             // strand: request headers read so far
  Clock::time_point deadline_ = Clock::time_point::max();  // strand: shutdown deadline
  bool idle_ = true;       // strand: waiting for a request's first bytes
  bool stopping_ = false;  // strand: answer what is in progress, refuse the rest, then close
  bool done_ = false;      // strand: run() has finished
};

}  // namespace xrayd
