// UdsSession: one Unix-socket connection speaking the frame protocol of
// xray/wire.h (docs/protocol.md), as coroutines on its own strand.
//
// The read loop takes snapshot frames and submits them; many frames may be in
// flight, and each is answered by an ack frame with its sequence number as
// soon as its snapshot is committed or refused, in whatever order that
// happens. Bounds (STYLE §11.3):
//   - a frame over max_body_bytes is read past in small chunks and answered
//     invalid, naming the limit; its neighbours are unaffected;
//   - a frame the budget cannot hold (its bytes, or its parsed document) is
//     answered busy, then reads pause until the budget is below its low
//     watermark (invariant 3);
//   - at most max_inflight_frames frames per connection are read and not yet
//     acknowledged on the wire (refused ones too): reads pause until acks have
//     been written, so a client that does not read its acks cannot make the
//     daemon queue them without bound; one that stops reading them for
//     idle_timeout is disconnected;
//   - deadlines: idle_timeout for a frame header, body_timeout for its payload.
// A malformed header (unknown version or type) cannot be skipped safely: it
// is answered invalid and the connection is closed after pending acks. When
// the client closes its side (EOF), the acks still owed are written first.
//
// Shutdown (invariant 8): frames whose header was read before shutdown() are
// submitted and answered as usual. After it, the session keeps reading: each
// further frame is read past and answered failed ("shutting down"), so a
// client that stops sending after its first failed ack gets an answer for
// every frame it sent. The connection closes when the client closes it, when
// it has been quiet (nothing in flight, nothing received) for
// Session::kShutdownLinger, or when the shutdown deadline passes.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <exception>
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
  void shutdown(Clock::time_point deadline) override;

 private:
  using Stream = boost::beast::basic_stream<boost::asio::local::stream_protocol>;

  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  // Reads the next frame header into header_, within idle_timeout (and the
  // shutdown deadline once stopping). header_got_ counts the bytes so far.
  boost::asio::awaitable<boost::system::error_code> read_header(const Config& config);
  // Reads and drops `bytes` of payload. False if the connection failed.
  boost::asio::awaitable<bool> discard(std::size_t bytes);
  // Strand, once stopping: closes the connection once it is quiet.
  boost::asio::awaitable<void> close_when_quiet();
  // Strand: queues the ack of one frame counted in inflight_ and wakes the writer.
  void send_ack(std::uint64_t sequence, xray::wire::AckStatus status, std::string_view message);
  // Strand: one counted frame has been answered (or can no longer be).
  void frame_answered();
  void on_result(std::uint64_t sequence, const SnapshotResult& result);
  // Strand: sleeps until woken by an ack written or until `d` passes.
  boost::asio::awaitable<void> wait_for_wake(std::chrono::milliseconds d);
  // Session boundary: logs an exception that ended one of the coroutines.
  void log_exception(std::exception_ptr e);

  Stream stream_;
  SessionContext& context_;
  std::uint64_t registry_id_ = 0;
  boost::asio::steady_timer wake_;    // strand: reader waits here when paused
  boost::asio::steady_timer linger_;  // strand: close_when_quiet's timer
  std::deque<std::string> outbox_;    // strand: ack frames not yet written
  std::array<unsigned char, xray::wire::kHeaderBytes> header_{};  // strand
  std::size_t header_got_ = 0;     // strand: bytes of header_ read so far
  std::uint64_t frames_read_ = 0;  // strand: frame headers read so far
  std::size_t inflight_ = 0;       // strand: frames read and not yet acked on the wire
  Clock::time_point deadline_ = Clock::time_point::max();  // strand: shutdown deadline
  bool writing_ = false;                                   // strand: write_loop is running
  bool idle_ = true;                // strand: waiting for the first byte of a frame
  bool stopping_ = false;           // strand: answer new frames "shutting down"
  bool paused_for_budget_ = false;  // strand: a busy refusal; read again below low watermark
  bool closing_ = false;            // strand: close_when_quiet ended the read
  bool broken_ = false;             // strand: the connection failed; drop pending acks
  bool done_ = false;               // strand: read_loop has finished
};

}  // namespace xrayd
