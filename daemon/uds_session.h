// UdsSession: one Unix-socket connection speaking the frame protocol of
// xray/wire.h (docs/protocol.md), as coroutines on its own strand.
//
// The read loop takes snapshot frames and submits them; many frames may be in
// flight, and each is answered by an ack frame with its sequence number as
// soon as its snapshot is committed or refused, in whatever order that
// happens. Bounds (STYLE §11.3):
//   - a frame over max_body_bytes is read past in small chunks and answered
//     invalid, naming the limit; its neighbours are unaffected;
//   - a frame the budget cannot hold is read past and answered busy, then
//     reads pause until the budget is below its low watermark (invariant 3);
//   - at most max_inflight_frames unacknowledged frames per connection: reads
//     pause until acks have been written, so a client that does not read its
//     acks cannot make the daemon queue them without bound;
//   - deadlines: idle_timeout waiting for a frame, body_timeout for its payload.
// A malformed header (unknown version or type) cannot be skipped safely: it
// is answered invalid and the connection is closed after pending acks.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>

#include "daemon/session_context.h"
#include "xray/wire.h"

namespace xrayd {

class UdsSession : public Session, public std::enable_shared_from_this<UdsSession> {
 public:
  // `socket` must use a strand executor.
  UdsSession(boost::asio::local::stream_protocol::socket&& socket, SessionContext& context);
  ~UdsSession() override;

  void start();
  void shutdown() override;

 private:
  using Stream = boost::beast::basic_stream<boost::asio::local::stream_protocol>;

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  // Reads and drops `bytes` of payload. False if the connection failed.
  boost::asio::awaitable<bool> discard(std::size_t bytes);
  // Strand: queues an ack frame and wakes the writer.
  // `answers_frame`: the ack answers a frame counted in inflight_.
  void send_ack(std::uint64_t sequence, xray::wire::AckStatus status, std::string_view message,
                bool answers_frame = false);
  // Strand: one counted frame has been answered (or can no longer be).
  void frame_answered();
  void on_result(std::uint64_t sequence, const SnapshotResult& result);
  // Strand: sleeps until woken by an ack written or until `d` passes.
  boost::asio::awaitable<void> wait_for_wake(std::chrono::milliseconds d);

  Stream stream_;
  SessionContext& context_;
  std::uint64_t registry_id_ = 0;
  boost::asio::steady_timer wake_;      // strand: reader waits here when paused
  struct PendingAck {
    std::string frame;
    bool answers_frame;  // counted in inflight_
  };
  std::deque<PendingAck> outbox_;       // strand: ack frames not yet written
  bool writing_ = false;                // strand: write_loop is running
  std::size_t inflight_ = 0;            // strand: frames read and not yet acked on the wire
  bool idle_ = true;                    // strand: waiting for a frame header
  bool stopping_ = false;               // strand: read no more frames
  bool broken_ = false;                 // strand: the connection failed; drop pending acks
};

}  // namespace xrayd
