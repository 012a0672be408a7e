// UdsConnection: one non-blocking connection to xrayd's Unix socket, speaking
// the frame format of xray/wire.h: snapshot frames out, ack frames in, many
// frames in flight, acks in any order.
//
// It owns the socket and two buffers; it never blocks (the sender polls fd()).
// Used by the sender thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "xray/wire.h"

namespace xray::sdk {

struct Ack {
  std::uint64_t sequence = 0;
  wire::AckStatus status = wire::AckStatus::kFailed;
  std::string message;
};

class UdsConnection {
 public:
  // Connects without blocking. Errors: the socket file is missing or refuses
  // (ENOENT, ECONNREFUSED), the listen backlog is full (EAGAIN), path too long.
  [[nodiscard]] static Result<std::unique_ptr<UdsConnection>> connect(const std::string& path);
  ~UdsConnection();
  UdsConnection(const UdsConnection&) = delete;
  UdsConnection& operator=(const UdsConnection&) = delete;

  int fd() const { return fd_; }

  // Queues one snapshot frame; write_some() sends it.
  void queue_frame(std::uint64_t sequence, std::string_view payload);
  // Bytes queued and not yet taken by the socket.
  std::size_t unwritten_bytes() const { return out_.size() - out_offset_; }

  // Writes as much as the socket takes now. Errors: the peer is gone.
  [[nodiscard]] Result<void> write_some();
  // Reads what has arrived and returns the complete acks in it, and, when the
  // connection is finished, why: Errc::kClosed (peer closed), Errc::kProtocol
  // (a frame that is not a valid ack, or larger than kMaxAckPayload), or a
  // socket error. Acks that arrived before the end are returned either way.
  struct ReadResult {
    std::vector<Ack> acks;
    boost::system::error_code error;
  };
  [[nodiscard]] ReadResult read_acks();

  static constexpr std::size_t kMaxAckPayload = 64 << 10;

 private:
  explicit UdsConnection(int fd) : fd_(fd) {}

  int fd_;
  std::string out_;
  std::size_t out_offset_ = 0;
  std::string in_;
};

}  // namespace xray::sdk
