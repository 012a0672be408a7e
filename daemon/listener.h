// Listener: owns the TCP (HTTP) and Unix-socket acceptors and starts one
// session per accepted connection, each on its own strand.
//
// Sockets come either from the config (bind http_listen / socket_path) or,
// under systemd socket activation, inherited through LISTEN_FDS (the
// daemon then binds nothing itself). Past max_connections a new HTTP
// connection gets a 503 (written, then a lingering close so the client can
// read it) and a new Unix-socket connection is closed at once; both are
// counted (xray_refused_total{reason="connections"}).
//
// stop() closes the acceptors and removes the socket file this process
// created. Connections that completed their handshake but were not accepted
// yet would be reset by that close, losing what their clients already sent;
// so stop() first accepts them and hands them to sessions that are already
// stopping (they answer "shutting down"). Inherited sockets are not drained:
// systemd keeps them open, and their backlog waits for the next instance.
//
// Threads: open() from main before the io threads run; start() from any
// thread; stop() from any thread but an io thread (it waits for them). The
// accept loops and stop's work run on one strand.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/strand.hpp>

#include "daemon/session_context.h"

namespace xrayd {

class Listener {
 public:
  Listener(boost::asio::io_context& ioc, SessionContext& context);
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener();

  // Binds (or adopts inherited sockets). Returns a message naming the
  // address and the reason on failure.
  [[nodiscard]] std::optional<std::string> open(const Config& config);

  // Starts the accept loops (call once, from any thread).
  void start();
  // Drains the backlog into stopping sessions (reads end by `deadline`) and
  // closes the acceptors; sessions already running continue. Blocks until
  // done, so a session started afterwards cannot miss the shutdown. Never
  // call it from an io thread.
  void stop(std::chrono::steady_clock::time_point deadline);

  // The bound TCP port (useful with http_listen = 127.0.0.1:0), 0 if none.
  unsigned short http_port() const { return http_port_; }

 private:
  boost::asio::awaitable<void> accept_tcp();
  boost::asio::awaitable<void> accept_uds();
  // Strand: starts a session for an accepted connection, already stopping
  // when the listener has been stopped.
  void start_http(boost::asio::ip::tcp::socket&& socket);
  void start_uds(boost::asio::local::stream_protocol::socket&& socket);
  // Strand: accepts what is in the backlogs now, without waiting.
  void drain_backlogs();
  bool over_connection_limit() const;

  boost::asio::io_context& ioc_;
  SessionContext& context_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  bool inherited_ = false;                                 // the acceptors came from systemd
  bool stopped_ = false;                                   // strand
  std::chrono::steady_clock::time_point stop_deadline_{};  // strand
  std::optional<boost::asio::ip::tcp::acceptor> tcp_;
  std::optional<boost::asio::local::stream_protocol::acceptor> uds_;
  std::string socket_file_;  // removed by stop() when this process created it
  unsigned short http_port_ = 0;
};

}  // namespace xrayd
