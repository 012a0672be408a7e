#include "http_transport.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <unistd.h>

#include <sys/socket.h>

namespace xray::sdk {
namespace {

constexpr std::size_t kMaxHeaderBytes = 64 << 10;
constexpr std::size_t kMaxBodyBytes = 1 << 20;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<HttpEndpoint> parse_http_endpoint(std::string_view text) {
  if (text.substr(0, 7) == "http://") text.remove_prefix(7);
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    if (text.substr(slash) != "/") return make_error_code(Errc::kBadEndpoint);
    text = text.substr(0, slash);
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return make_error_code(Errc::kBadEndpoint);
  HttpEndpoint e;
  e.host = std::string(text.substr(0, colon));
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);  // [::1]
  }
  auto port = text.substr(colon + 1);
  auto r = std::from_chars(port.data(), port.data() + port.size(), e.port);
  if (r.ec != std::errc() || r.ptr != port.data() + port.size() || e.port == 0) {
    return make_error_code(Errc::kBadEndpoint);
  }
  return e;
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<void> HttpClient::wait(short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (abort_ && abort_())) return make_error_code(Errc::kTimeout);
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 50)));
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return last_error();
  }
}

Result<void> HttpClient::connect(std::chrono::steady_clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(endpoint_.port);
  // Numeric hosts (the usual 127.0.0.1) resolve without any lookup.
  if (::getaddrinfo(endpoint_.host.c_str(), port.c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    return make_error_code(Errc::kBadEndpoint);
  }
  boost::system::error_code last = make_error_code(Errc::kBadEndpoint);
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd_ < 0) {
      last = last_error();
      continue;
    }
    if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS) {
      if (auto w = wait(POLLOUT, deadline); !w) {
        last = w.error();
        close();
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) break;
      last = boost::system::error_code(err, boost::system::system_category());
    } else {
      last = last_error();
    }
    close();
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) return last;
  return {};
}

Result<void> HttpClient::write_all(std::string_view data,
                                   std::chrono::steady_clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return last_error();
    if (auto w = wait(POLLOUT, deadline); !w) return w.error();
  }
  return {};
}

Result<int> HttpClient::read_response(std::chrono::steady_clock::time_point deadline,
                                      bool& keep_alive) {
  std::string in;
  bool eof = false;
  // Reads more bytes into `in`; false at end of stream.
  auto fill = [&]() -> Result<bool> {
    char buf[8192];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in.append(buf, static_cast<std::size_t>(n));
        return true;
      }
      if (n == 0) {
        eof = true;
        return false;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        return Result<bool>(boost::system::in_place_error, last_error());
      }
      if (auto w = wait(POLLIN, deadline); !w) {
        return Result<bool>(boost::system::in_place_error, w.error());
      }
    }
  };

  std::size_t header_end;
  while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
    if (in.size() > kMaxHeaderBytes) return make_error_code(Errc::kProtocol);
    auto more = fill();
    if (!more) return more.error();
    if (!*more) return make_error_code(Errc::kClosed);
  }
  std::string_view head(in.data(), header_end);
  // Status line: HTTP/1.1 200 OK
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12) {
    return make_error_code(Errc::kProtocol);
  }
  int status = 0;
  auto sp = status_line.find(' ');
  auto r =
      std::from_chars(status_line.data() + sp + 1, status_line.data() + status_line.size(), status);
  if (r.ec != std::errc() || status < 100 || status > 599) return make_error_code(Errc::kProtocol);

  std::optional<std::size_t> content_length;
  bool chunked = false;
  keep_alive = status_line.substr(0, 8) != "HTTP/1.0";
  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      auto c = std::from_chars(value.data(), value.data() + value.size(), n);
      if (c.ec != std::errc() || n > kMaxBodyBytes) return make_error_code(Errc::kProtocol);
      content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      chunked = iequals(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (iequals(value, "close")) keep_alive = false;
      if (iequals(value, "keep-alive")) keep_alive = true;
    }
  }
  in.erase(0, header_end + 4);

  // The body is read only to keep the connection usable; its text is not needed.
  if (chunked) {
    for (;;) {
      std::size_t crlf;
      while ((crlf = in.find("\r\n")) == std::string::npos) {
        if (in.size() > kMaxHeaderBytes) return make_error_code(Errc::kProtocol);
        auto more = fill();
        if (!more) return more.error();
        if (!*more) return make_error_code(Errc::kClosed);
      }
      std::size_t size = 0;
      auto c = std::from_chars(in.data(), in.data() + crlf, size, 16);
      if (c.ec != std::errc() || size > kMaxBodyBytes) return make_error_code(Errc::kProtocol);
      std::size_t need = crlf + 2 + size + 2;  // size line, data, CRLF (or the final CRLF)
      while (in.size() < need) {
        auto more = fill();
        if (!more) return more.error();
        if (!*more) return make_error_code(Errc::kClosed);
      }
      in.erase(0, need);
      if (size == 0) break;  // assumes no trailers, which xrayd does not send
    }
  } else if (content_length) {
    while (in.size() < *content_length) {
      auto more = fill();
      if (!more) return more.error();
      if (!*more) return make_error_code(Errc::kClosed);
    }
  } else if (status != 204 && status != 304) {
    keep_alive = false;  // body until close; we do not need it
  }
  if (eof) keep_alive = false;
  return status;
}

Result<int> HttpClient::post_snapshot(std::string_view json,
                                      std::chrono::steady_clock::time_point deadline) {
  // A kept-alive connection may have been closed by the server meanwhile;
  // then the first attempt fails before any response and we retry once on a
  // fresh connection (the daemon is idempotent, invariant 4).
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = fd_ >= 0;
    if (!reused) {
      if (auto c = connect(deadline); !c) return c.error();
    }
    const bool ipv6 = endpoint_.host.find(':') != std::string::npos;
    std::string request =
        "POST /v1/executions HTTP/1.1\r\nHost: " +
        (ipv6 ? "[" + endpoint_.host + "]" : endpoint_.host) + ":" +
        std::to_string(endpoint_.port) +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(json.size()) +
        "\r\nConnection: keep-alive\r\n\r\n";
    request.append(json);
    auto w = write_all(request, deadline);
    bool keep_alive = false;
    Result<int> status = w ? read_response(deadline, keep_alive) : Result<int>(w.error());
    if (status) {
      if (!keep_alive) close();
      return status;
    }
    close();
    bool stale = status.error() == Errc::kClosed ||
                 status.error() == boost::system::errc::connection_reset ||
                 status.error() == boost::system::errc::broken_pipe;
    if (!(reused && stale)) return status.error();
  }
  return make_error_code(Errc::kClosed);
}

}  // namespace xray::sdk
