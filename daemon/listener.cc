#include "daemon/listener.h"

#include <array>
#include <cstring>
#include <filesystem>
#include <future>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <sys/socket.h>
#include <sys/stat.h>

#include "daemon/http_session.h"
#include "daemon/systemd.h"
#include "daemon/uds_session.h"

namespace xrayd {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::local::stream_protocol;

// The whole response to a connection over max_connections, written before closing.
const std::string& too_many_connections_response() {
  static const std::string kResponse = [] {
    std::string body = R"({"error":"too many connections (max_connections); retry later",)"
                       R"("code":"too_many_connections"})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return kResponse;
}

// Writes the 503 to a connection over max_connections, then closes it
// lingering: stop sending, read and drop what the client sends until it
// closes or a second passes. Closing with its request unread would reset the
// connection, and the client could lose the 503 before reading it.
asio::awaitable<void> refuse_connection(tcp::socket socket) {
  constexpr std::chrono::seconds kLinger{1};
  // The stream's own timer bounds the write and the lingering reads together.
  boost::beast::tcp_stream stream(std::move(socket));
  stream.expires_after(kLinger);
  auto [write_ec, written] = co_await asio::async_write(
      stream, asio::buffer(too_many_connections_response()), asio::as_tuple(asio::use_awaitable));
  boost::system::error_code ec;
  if (!write_ec) {
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 4096> sink;
    for (;;) {
      auto [read_ec, n] =
          co_await stream.async_read_some(asio::buffer(sink), asio::as_tuple(asio::use_awaitable));
      if (read_ec) break;
    }
  }
  stream.close();
}

// Checks that an inherited descriptor is a listening stream socket.
std::optional<std::string> check_listening_stream(int fd) {
  int type = 0;
  int accepting = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
    return "inherited fd " + std::to_string(fd) + " is not a stream socket";
  }
  len = sizeof accepting;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || accepting == 0) {
    return "inherited fd " + std::to_string(fd) + " is not listening";
  }
  return std::nullopt;
}

std::optional<tcp::endpoint> parse_endpoint(const std::string& host_port, std::string& error) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) {
    error = "http_listen '" + host_port + "' is not host:port";
    return std::nullopt;
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "http_listen host '" + host + "' is not an IP address";
    return std::nullopt;
  }
  unsigned long port = 0;
  try {
    port = std::stoul(host_port.substr(colon + 1));
  } catch (...) {
    port = 70000;
  }
  if (port > 65535) {
    error = "http_listen port in '" + host_port + "' is not a port number";
    return std::nullopt;
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

Listener::Listener(asio::io_context& ioc, SessionContext& context)
    : ioc_(ioc), context_(context), strand_(asio::make_strand(ioc)) {}

Listener::~Listener() {
  if (!socket_file_.empty()) ::unlink(socket_file_.c_str());
}

std::optional<std::string> Listener::open(const Config& config) {
  boost::system::error_code ec;
  // Socket activation: take what systemd passed and bind nothing else.
  for (int fd : inherited_listen_fds()) {
    inherited_ = true;
    if (auto error = check_listening_stream(fd)) return *error;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return "cannot read the address of inherited fd " + std::to_string(fd) + ": " +
             std::strerror(errno);
    }
    if (addr.ss_family == AF_UNIX) {
      if (uds_) return std::string("more than one inherited Unix socket");
      uds_.emplace(ioc_);
      uds_->assign(stream_protocol(), fd, ec);
      if (ec) return "cannot adopt inherited Unix socket: " + ec.message();
      context_.log.info("listener", "listening on inherited unix socket ",
                        uds_->local_endpoint(ec).path());
    } else if (addr.ss_family == AF_INET || addr.ss_family == AF_INET6) {
      if (tcp_) return std::string("more than one inherited TCP socket");
      tcp_.emplace(ioc_);
      tcp_->assign(addr.ss_family == AF_INET ? tcp::v4() : tcp::v6(), fd, ec);
      if (ec) return "cannot adopt inherited TCP socket: " + ec.message();
      http_port_ = tcp_->local_endpoint(ec).port();
      context_.log.info("listener", "listening on inherited http ",
                        tcp_->local_endpoint(ec).address().to_string(), ":", http_port_);
    } else {
      return "inherited fd " + std::to_string(fd) + " is neither a Unix nor a TCP socket";
    }
  }
  if (tcp_ || uds_) return std::nullopt;

  if (!config.http_listen.empty()) {
    std::string error;
    auto endpoint = parse_endpoint(config.http_listen, error);
    if (!endpoint) return error;
    tcp_.emplace(ioc_);
    tcp_->open(endpoint->protocol(), ec);
    if (!ec) tcp_->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) tcp_->bind(*endpoint, ec);
    if (!ec) tcp_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return "cannot listen on http " + config.http_listen + ": " + ec.message();
    http_port_ = tcp_->local_endpoint().port();
    context_.log.info("listener", "listening on http ", endpoint->address().to_string(), ":",
                      http_port_);
  }
  if (!config.socket_path.empty()) {
    std::error_code fs_ec;
    std::filesystem::path path(config.socket_path);
    // A socket file left by a previous run would make bind fail; replace it,
    // but never delete something that is not a socket.
    auto status = std::filesystem::symlink_status(path, fs_ec);
    if (!fs_ec && std::filesystem::exists(status)) {
      if (!std::filesystem::is_socket(status)) {
        return "socket_path " + config.socket_path + " exists and is not a socket";
      }
      std::filesystem::remove(path, fs_ec);
    }
    uds_.emplace(ioc_);
    uds_->open(stream_protocol(), ec);
    if (!ec) uds_->bind(stream_protocol::endpoint(config.socket_path), ec);
    if (!ec) uds_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return "cannot listen on unix socket " + config.socket_path + ": " + ec.message();
    socket_file_ = config.socket_path;
    if (::chmod(config.socket_path.c_str(), config.socket_mode) != 0) {
      return "cannot chmod " + config.socket_path + ": " + std::strerror(errno);
    }
    context_.log.info("listener", "listening on unix socket ", config.socket_path);
  }
  return std::nullopt;
}

void Listener::start() {
  if (tcp_) asio::co_spawn(strand_, accept_tcp(), asio::detached);
  if (uds_) asio::co_spawn(strand_, accept_uds(), asio::detached);
}

void Listener::stop(std::chrono::steady_clock::time_point deadline) {
  std::promise<void> done;
  asio::post(strand_, [this, deadline, &done] {
    stopped_ = true;
    stop_deadline_ = deadline;
    // Invariant 8: a client whose connection is in the backlog already sent
    // its request or frames; closing the acceptor would reset them unanswered.
    if (!inherited_) drain_backlogs();
    boost::system::error_code ec;
    if (tcp_) tcp_->close(ec);
    if (uds_) uds_->close(ec);
    if (!socket_file_.empty()) {
      ::unlink(socket_file_.c_str());
      socket_file_.clear();
    }
    done.set_value();
  });
  done.get_future().wait();
}

void Listener::drain_backlogs() {
  boost::system::error_code ec;
  if (tcp_ && tcp_->is_open()) {
    tcp_->non_blocking(true, ec);
    for (;;) {
      tcp::socket socket(asio::make_strand(ioc_));
      tcp_->accept(socket, ec);
      if (ec) break;
      context_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
      start_http(std::move(socket));
    }
  }
  if (uds_ && uds_->is_open()) {
    uds_->non_blocking(true, ec);
    for (;;) {
      stream_protocol::socket socket(asio::make_strand(ioc_));
      uds_->accept(socket, ec);
      if (ec) break;
      context_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
      start_uds(std::move(socket));
    }
  }
}

bool Listener::over_connection_limit() const {
  auto open = context_.metrics.connections_open.load(std::memory_order_relaxed);
  return open >= static_cast<std::int64_t>(context_.config.get()->max_connections);
}

void Listener::start_http(tcp::socket&& socket) {
  boost::system::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);
  auto session = std::make_shared<HttpSession>(std::move(socket), context_);
  session->start();
  if (stopped_) session->shutdown(stop_deadline_);
}

void Listener::start_uds(stream_protocol::socket&& socket) {
  auto session = std::make_shared<UdsSession>(std::move(socket), context_);
  session->start();
  if (stopped_) session->shutdown(stop_deadline_);
}

asio::awaitable<void> Listener::accept_tcp() {
  for (;;) {
    auto [ec, socket] =
        co_await tcp_->async_accept(asio::make_strand(ioc_), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !tcp_->is_open()) co_return;
      // EMFILE and friends: log, back off briefly via the next accept.
      context_.log.warn("listener", "accept on http failed: ", ec.message());
      continue;
    }
    context_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    if (!stopped_ && over_connection_limit()) {
      context_.metrics.refused_connections.fetch_add(1, std::memory_order_relaxed);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, refuse_connection(std::move(socket)), asio::detached);
      continue;
    }
    // A connection accepted just before stop() still gets a (stopping) session.
    start_http(std::move(socket));
    if (stopped_) co_return;
  }
}

asio::awaitable<void> Listener::accept_uds() {
  for (;;) {
    auto [ec, socket] =
        co_await uds_->async_accept(asio::make_strand(ioc_), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !uds_->is_open()) co_return;
      context_.log.warn("listener", "accept on unix socket failed: ", ec.message());
      continue;
    }
    context_.metrics.connections_accepted.fetch_add(1, std::memory_order_relaxed);
    if (!stopped_ && over_connection_limit()) {
      context_.metrics.refused_connections.fetch_add(1, std::memory_order_relaxed);
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    start_uds(std::move(socket));
    if (stopped_) co_return;
  }
}

}  // namespace xrayd
