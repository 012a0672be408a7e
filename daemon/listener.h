// Listener: owns the TCP (HTTP) and Unix-socket acceptors and starts one
// session per accepted connection, each on its own strand.
//
// Sockets come either from the config (bind http_listen / socket_path) or,
// under systemd socket activation, inherited through LISTEN_FDS (the
// daemon then binds nothing itself). Past max_connections a new HTTP
// connection gets a 503 and a new Unix-socket connection is closed at once;
// both are counted. stop() closes the acceptors and removes the socket file
// this process created. Threads: open() from main before the io threads
// run; start()/stop() are posted onto the io_context.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

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
  // Closes the acceptors; sessions already running continue. Any thread.
  void stop();

  // The bound TCP port (useful with http_listen = 127.0.0.1:0), 0 if none.
  unsigned short http_port() const { return http_port_; }

 private:
  boost::asio::awaitable<void> accept_tcp();
  boost::asio::awaitable<void> accept_uds();
  bool over_connection_limit() const;

  boost::asio::io_context& ioc_;
  SessionContext& context_;
  std::optional<boost::asio::ip::tcp::acceptor> tcp_;
  std::optional<boost::asio::local::stream_protocol::acceptor> uds_;
  std::string socket_file_;  // removed by stop() when this process created it
  unsigned short http_port_ = 0;
};

}  // namespace xrayd
