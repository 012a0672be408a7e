#include "tests/support/clients.h"

#include <algorithm>
#include <cstring>
#include <poll.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace xray::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<long long>(0, left.count()));
}

// Reads what is available within the deadline; 0 on close, -1 on timeout
// (errno ETIMEDOUT) or error (errno from the failing call).
ssize_t read_some(int fd, char* buf, std::size_t n, Clock::time_point deadline) {
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, remaining_ms(deadline));
  if (r == 0) {
    // poll leaves errno alone on a timeout; a stale ECONNRESET from an earlier
    // call must not read as "closed by the peer".
    errno = ETIMEDOUT;
    return -1;
  }
  if (r < 0) return -1;
  ssize_t got = ::recv(fd, buf, n, 0);
  return got < 0 ? -1 : got;
}

bool write_all(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

bool wait_closed(int fd, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (Clock::now() < deadline) {
    ssize_t n = read_some(fd, buf, sizeof buf, deadline);
    if (n == 0) return true;
    if (n < 0 && errno == ECONNRESET) return true;
  }
  return false;
}

}  // namespace

HttpClient::HttpClient(unsigned short port) : port_(port) {}
HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  pending_.clear();
}

bool HttpClient::ensure_connected() {
  if (fd_ >= 0) return true;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool HttpClient::send_raw(const std::string& bytes) {
  if (!ensure_connected()) return false;
  if (!write_all(fd_, bytes)) {
    close();
    return false;
  }
  return true;
}

HttpReply HttpClient::read_reply(std::chrono::milliseconds timeout) {
  HttpReply reply;
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  std::size_t header_end = std::string::npos;
  while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = read_some(fd_, buf, sizeof buf, deadline);
    if (n <= 0) {
      close();
      return reply;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  std::string head = pending_.substr(0, header_end);
  pending_.erase(0, header_end + 4);
  reply.status = std::stoi(head.substr(9, 3));
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers[name] = value;
    }
    pos = next;
  }
  std::size_t length = 0;
  if (auto it = reply.headers.find("content-length"); it != reply.headers.end()) {
    length = std::stoull(it->second);
  }
  while (pending_.size() < length) {
    ssize_t n = read_some(fd_, buf, sizeof buf, deadline);
    if (n <= 0) {
      close();
      reply.status = 0;
      return reply;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  reply.body = pending_.substr(0, length);
  pending_.erase(0, length);
  if (auto it = reply.headers.find("connection");
      it != reply.headers.end() && it->second == "close") {
    close();
  }
  return reply;
}

std::string HttpClient::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[65536];
  while (pending_.find(needle) == std::string::npos && fd_ >= 0) {
    ssize_t n = read_some(fd_, buf, sizeof buf, deadline);
    if (n <= 0) {
      if (n == 0) close();
      break;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  std::string out;
  out.swap(pending_);
  return out;
}

HttpReply HttpClient::request(const std::string& method, const std::string& target,
                              const std::string& headers, const std::string& body,
                              std::chrono::milliseconds timeout) {
  std::string text = method + " " + target + " HTTP/1.1\r\n" + headers;
  if (!body.empty() || method == "POST") {
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!send_raw(text + "\r\n" + body)) return {};
  return read_reply(timeout);
}

HttpReply HttpClient::post(const std::string& target, const std::string& content_type,
                           const std::string& body, std::chrono::milliseconds timeout) {
  std::string request = "POST " + target +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: " + content_type +
                        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (!send_raw(request)) return {};
  return read_reply(timeout);
}

HttpReply HttpClient::get(const std::string& target, std::chrono::milliseconds timeout) {
  if (!send_raw("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) return {};
  return read_reply(timeout);
}

bool HttpClient::closed_by_peer(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  bool closed = wait_closed(fd_, timeout);
  if (closed) close();
  return closed;
}

UdsClient::UdsClient(const std::string& path) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

UdsClient::~UdsClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool UdsClient::send_snapshot(std::uint64_t sequence, const std::string& json) {
  return send_bytes(wire::encode_snapshot_frame(sequence, json));
}

bool UdsClient::send_bytes(const std::string& bytes) { return fd_ >= 0 && write_all(fd_, bytes); }

bool UdsClient::shutdown_write() { return fd_ >= 0 && ::shutdown(fd_, SHUT_WR) == 0; }

bool UdsClient::read_exact(char* out, std::size_t n, Clock::time_point deadline) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = read_some(fd_, out + got, n - got, deadline);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

std::optional<Ack> UdsClient::read_ack(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  auto deadline = Clock::now() + timeout;
  unsigned char header[wire::kHeaderBytes];
  if (!read_exact(reinterpret_cast<char*>(header), sizeof header, deadline)) return std::nullopt;
  auto decoded = wire::decode_header(header);
  if (decoded.error || decoded.header.type != wire::FrameType::kAck) return std::nullopt;
  std::string payload(decoded.header.payload_bytes, '\0');
  if (!read_exact(payload.data(), payload.size(), deadline)) return std::nullopt;
  auto ack = wire::decode_ack_payload(payload);
  if (!ack) return std::nullopt;
  return Ack{decoded.header.sequence, ack->status, std::string(ack->message)};
}

bool UdsClient::closed_by_peer(std::chrono::milliseconds timeout) {
  return fd_ < 0 || wait_closed(fd_, timeout);
}

}  // namespace xray::testing
