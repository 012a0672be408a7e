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
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
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
  void shutdown() override;

 private:
  boost::asio::awaitable<void> run();

  boost::beast::tcp_stream stream_;
  SessionContext& context_;
  std::uint64_t registry_id_ = 0;
  bool idle_ = true;       // strand: waiting for a request's first bytes
  bool stopping_ = false;  // strand: finish the current request, then close
};

}  // namespace xrayd
