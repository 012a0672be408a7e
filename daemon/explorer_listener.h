// ExplorerListener: the explorer's TCP acceptor (explorer_listen), apart from
// the ingestion listener so that the query API and dashboard can listen
// somewhere else, or not at all, and never count against max_connections of
// the ingestion side. It starts one ExplorerSession per connection, each on
// its own strand; past max_connections explorer connections a new one is
// closed at once.
//
// The explorer always binds its own address, also under systemd socket
// activation (which passes only the ingestion sockets).
//
// Threads: open() from main before the io threads run; start() from any
// thread; stop() from any thread but an io thread (it waits for the strand).
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "daemon/explorer_session.h"

namespace xrayd {

// "host:port" → endpoint; `option` names the setting in the error message.
// "localhost" means 127.0.0.1; an IPv6 host may be bracketed.
boost::system::result<boost::asio::ip::tcp::endpoint, std::string> parse_listen_address(
    const std::string& host_port, const std::string& option);

class ExplorerListener {
 public:
  ExplorerListener(boost::asio::io_context& ioc, ExplorerContext& context);
  ExplorerListener(const ExplorerListener&) = delete;
  ExplorerListener& operator=(const ExplorerListener&) = delete;

  // Binds `address`. Returns a message naming the address and the reason on failure.
  [[nodiscard]] std::optional<std::string> open(const std::string& address);
  void start();
  // Closes the acceptor; sessions already running continue. Blocks until done.
  void stop();

  // "127.0.0.1:4001", the bound address (port 0 resolved), for the log.
  const std::string& bound() const { return bound_; }

 private:
  boost::asio::awaitable<void> accept();

  boost::asio::io_context& ioc_;
  ExplorerContext& context_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::string bound_;
};

}  // namespace xrayd
