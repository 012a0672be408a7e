#include "uds_transport.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

namespace xray::sdk {

Result<std::unique_ptr<UdsConnection>> UdsConnection::connect(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return boost::system::error_code(ENAMETOOLONG, boost::system::system_category());
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return last_error();
  // A non-blocking connect on a Unix socket completes at once or fails;
  // EAGAIN means the daemon's backlog is full, which we treat like busy.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    auto ec = last_error();
    ::close(fd);
    return ec;
  }
  return std::unique_ptr<UdsConnection>(new UdsConnection(fd));
}

UdsConnection::~UdsConnection() { ::close(fd_); }

void UdsConnection::queue_frame(std::uint64_t sequence, std::string_view payload) {
  unsigned char header[wire::kHeaderBytes];
  wire::encode_header(
      {static_cast<std::uint32_t>(payload.size()), wire::FrameType::kSnapshot, sequence}, header);
  if (out_offset_ > 0 && out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  out_.append(reinterpret_cast<const char*>(header), sizeof header);
  out_.append(payload);
}

Result<void> UdsConnection::write_some() {
  while (out_offset_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_offset_, out_.size() - out_offset_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return last_error();
    }
    out_offset_ += static_cast<std::size_t>(n);
  }
  // Compact once the sent prefix dominates, so the buffer does not creep.
  if (out_offset_ > (1u << 20) && out_offset_ * 2 > out_.size()) {
    out_.erase(0, out_offset_);
    out_offset_ = 0;
  }
  return {};
}

UdsConnection::ReadResult UdsConnection::read_acks() {
  ReadResult result;
  char buf[16 << 10];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      if (in_.size() > 4 * kMaxAckPayload) break;  // parse before reading more
      continue;
    }
    if (n == 0) {
      result.error = make_error_code(Errc::kClosed);
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) result.error = last_error();
    break;
  }
  std::size_t pos = 0;
  while (in_.size() - pos >= wire::kHeaderBytes) {
    auto d = wire::decode_header(reinterpret_cast<const unsigned char*>(in_.data() + pos));
    if (d.error || d.header.type != wire::FrameType::kAck ||
        d.header.payload_bytes > kMaxAckPayload) {
      result.error = make_error_code(Errc::kProtocol);
      break;
    }
    if (in_.size() - pos - wire::kHeaderBytes < d.header.payload_bytes) break;
    auto payload = std::string_view(in_).substr(pos + wire::kHeaderBytes, d.header.payload_bytes);
    auto ack = wire::decode_ack_payload(payload);
    if (!ack) {
      result.error = make_error_code(Errc::kProtocol);
      break;
    }
    result.acks.push_back({d.header.sequence, ack->status, std::string(ack->message)});
    pos += wire::kHeaderBytes + d.header.payload_bytes;
  }
  in_.erase(0, pos);
  return result;
}

}  // namespace xray::sdk
