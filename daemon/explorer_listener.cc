#include "daemon/explorer_listener.h"

#include <future>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace xrayd {

namespace asio = boost::asio;
using asio::ip::tcp;

boost::system::result<tcp::endpoint, std::string> parse_listen_address(const std::string& host_port,
                                                                       const std::string& option) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return option + " '" + host_port + "' is not host:port";
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return option + " host '" + host + "' is not an IP address";
  const std::string port_text = host_port.substr(colon + 1);
  unsigned long port = 70000;
  if (!port_text.empty() && port_text.size() <= 5 &&
      port_text.find_first_not_of("0123456789") == std::string::npos) {
    port = std::stoul(port_text);
  }
  if (port > 65535) return option + " port in '" + host_port + "' is not a port number";
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

ExplorerListener::ExplorerListener(asio::io_context& ioc, ExplorerContext& context)
    : ioc_(ioc), context_(context), strand_(asio::make_strand(ioc)) {}

std::optional<std::string> ExplorerListener::open(const std::string& address) {
  auto endpoint = parse_listen_address(address, "explorer_listen");
  if (!endpoint) return endpoint.error();
  boost::system::error_code ec;
  acceptor_.emplace(ioc_);
  acceptor_->open(endpoint->protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(*endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen on explorer " + address + ": " + ec.message();
  const auto local = acceptor_->local_endpoint(ec);
  const std::string host = local.address().to_string();
  bound_ = (local.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(local.port());
  context_.log.info("listener", "listening on explorer ", bound_);
  return std::nullopt;
}

void ExplorerListener::start() {
  if (acceptor_) asio::co_spawn(strand_, accept(), asio::detached);
}

void ExplorerListener::stop() {
  std::promise<void> done;
  asio::post(strand_, [this, &done] {
    boost::system::error_code ec;
    if (acceptor_) acceptor_->close(ec);
    done.set_value();
  });
  done.get_future().wait();
}

asio::awaitable<void> ExplorerListener::accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::make_strand(ioc_),
                                                         asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) co_return;
      context_.log.warn("listener", "accept on explorer failed: ", ec.message());
      continue;
    }
    const auto open = context_.metrics.explorer_connections_open.load(std::memory_order_relaxed);
    if (open >= static_cast<std::int64_t>(context_.config.get()->max_connections)) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<ExplorerSession>(std::move(socket), context_)->start();
  }
}

}  // namespace xrayd
