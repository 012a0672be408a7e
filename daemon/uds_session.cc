#include "daemon/uds_session.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include "daemon/check.h"

namespace xrayd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace wire = xray::wire;
using xray::Errc;

constexpr std::size_t kDiscardChunkBytes = 16 * 1024;
constexpr std::chrono::milliseconds kBudgetPoll{10};
constexpr const char* kShuttingDownMessage = "the daemon is shutting down; retry";

}  // namespace

UdsSession::UdsSession(asio::local::stream_protocol::socket&& socket, SessionContext& context)
    : stream_(std::move(socket)),
      context_(context),
      wake_(stream_.get_executor(), std::chrono::steady_clock::time_point::max()),
      linger_(stream_.get_executor()) {
  context_.metrics.connections_open.fetch_add(1, std::memory_order_relaxed);
}

UdsSession::~UdsSession() {
  context_.registry.remove(registry_id_);
  context_.metrics.connections_open.fetch_sub(1, std::memory_order_relaxed);
  context_.metrics.uds_frames_inflight.fetch_sub(static_cast<std::int64_t>(inflight_),
                                                 std::memory_order_relaxed);
}

void UdsSession::log_exception(std::exception_ptr e) {
  // Session boundary (STYLE §4): log and close; nothing acknowledged is lost
  // because acks follow commits.
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    context_.log.error("uds", "session ended by exception: ", ex.what());
  }
}

void UdsSession::start() {
  registry_id_ = context_.registry.add(weak_from_this());
  asio::co_spawn(stream_.get_executor(), read_loop(),
                 [self = shared_from_this()](std::exception_ptr e) { self->log_exception(e); });
}

void UdsSession::shutdown(Clock::time_point deadline) {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this(), deadline] {
    if (self->stopping_ || self->done_) return;
    self->stopping_ = true;
    self->deadline_ = deadline;
    // A reader paused for the budget stops waiting: from now on frames are
    // answered without taking memory.
    self->wake_.cancel();
    asio::co_spawn(self->stream_.get_executor(), self->close_when_quiet(),
                   [self](std::exception_ptr e) { self->log_exception(e); });
  });
}

asio::awaitable<void> UdsSession::close_when_quiet() {
  std::uint64_t seen = frames_read_;
  for (;;) {
    linger_.expires_after(kShutdownLinger);
    co_await linger_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (done_) co_return;
    // Invariant 8: close only when every frame read has its ack on the wire
    // and the client sent nothing for a whole linger period. No write is in
    // progress, so cancelling the socket ends only the header read.
    if (idle_ && header_got_ == 0 && inflight_ == 0 && !writing_ && frames_read_ == seen) {
      closing_ = true;
      stream_.socket().cancel();
      co_return;
    }
    seen = frames_read_;
  }
}

asio::awaitable<void> UdsSession::wait_for_wake(std::chrono::milliseconds d) {
  wake_.expires_after(d);
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<boost::system::error_code> UdsSession::read_header(const Config& config) {
  header_got_ = 0;
  auto deadline = Clock::now() + config.idle_timeout;
  if (stopping_) deadline = std::min(deadline, deadline_);
  stream_.expires_at(deadline);
  while (header_got_ < header_.size()) {
    // Read piecewise and count, so close_when_quiet() can tell a connection
    // with half a header in the socket from an idle one.
    idle_ = header_got_ == 0;
    auto [ec, n] = co_await stream_.async_read_some(
        asio::buffer(header_.data() + header_got_, header_.size() - header_got_),
        asio::as_tuple(asio::use_awaitable));
    header_got_ += n;
    if (ec) {
      idle_ = false;
      co_return ec;
    }
  }
  idle_ = false;
  co_return boost::system::error_code{};
}

asio::awaitable<bool> UdsSession::discard(std::size_t bytes) {
  std::array<char, kDiscardChunkBytes> chunk;
  auto config = context_.config.get();
  stream_.expires_after(config->body_timeout);
  while (bytes > 0) {
    std::size_t n = std::min(bytes, chunk.size());
    auto [ec, got] = co_await asio::async_read(stream_, asio::buffer(chunk.data(), n),
                                               asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == beast::error::timeout) {
        context_.metrics.timeouts_body.fetch_add(1, std::memory_order_relaxed);
      }
      co_return false;
    }
    bytes -= got;
  }
  co_return true;
}

asio::awaitable<void> UdsSession::read_loop() {
  for (;;) {
    if (broken_ || closing_) break;
    auto config = context_.config.get();
    // Pause while too many frames are unacknowledged on this connection. A
    // client that stops reading its acks for idle_timeout is disconnected.
    if (inflight_ >= config->max_inflight_frames) {
      context_.metrics.uds_reads_paused_inflight.fetch_add(1, std::memory_order_relaxed);
      auto give_up = std::min(Clock::now() + config->idle_timeout,
                              stopping_ ? deadline_ : Clock::time_point::max());
      while (inflight_ >= config->max_inflight_frames && !broken_) {
        if (Clock::now() >= give_up) {
          context_.metrics.timeouts_idle.fetch_add(1, std::memory_order_relaxed);
          broken_ = true;
          stream_.socket().cancel();  // ends a write blocked on the silent client
          break;
        }
        co_await wait_for_wake(config->idle_timeout);
      }
      if (broken_) break;
    }
    // Invariant 3: after a busy refusal, stop reading until memory is back
    // under the low watermark, instead of refusing frame after frame. Once
    // stopping, frames are answered without memory, so there is no pause.
    if (paused_for_budget_) {
      context_.metrics.uds_reads_paused_memory.fetch_add(1, std::memory_order_relaxed);
      while (!context_.budget.below_low_watermark() && !stopping_ && !broken_) {
        co_await wait_for_wake(kBudgetPoll);
      }
      paused_for_budget_ = false;
    }
    if (broken_) break;

    boost::system::error_code ec = co_await read_header(*config);
    if (ec) {
      if (ec == beast::error::timeout) {
        // The basic_stream closed the socket: nothing more can be written.
        broken_ = true;
        if (!stopping_) context_.metrics.timeouts_idle.fetch_add(1, std::memory_order_relaxed);
      } else if (ec != asio::error::operation_aborted && ec != asio::error::eof) {
        broken_ = true;
      }
      // EOF: the client closed its side; the acks it is owed are still written.
      break;
    }
    ++frames_read_;
    ++inflight_;
    context_.metrics.uds_frames_inflight.fetch_add(1, std::memory_order_relaxed);
    auto received_at = Clock::now();
    wire::DecodedHeader decoded = wire::decode_header(header_.data());
    std::uint64_t sequence = decoded.header.sequence;
    if (decoded.error) {
      send_ack(sequence, wire::AckStatus::kInvalid,
               std::string("bad frame header: ") + wire::to_string(*decoded.error) +
                   "; closing the connection");
      break;
    }
    std::size_t size = decoded.header.payload_bytes;
    if (decoded.header.type != wire::FrameType::kSnapshot) {
      if (!co_await discard(size)) break;
      send_ack(sequence, wire::AckStatus::kInvalid, "only snapshot frames may be sent to xrayd");
      continue;
    }
    if (size > config->max_body_bytes) {
      context_.metrics.body_too_large.fetch_add(1, std::memory_order_relaxed);
      if (!co_await discard(size)) break;
      send_ack(sequence, wire::AckStatus::kInvalid,
               "frame of " + std::to_string(size) + " bytes exceeds max_body_bytes (" +
                   std::to_string(config->max_body_bytes) + ")");
      continue;
    }
    if (stopping_ || context_.ingest.stopping()) {
      // Invariant 8: keep reading, and answer each frame, until the client stops.
      context_.metrics.refused_shutdown.fetch_add(1, std::memory_order_relaxed);
      if (!co_await discard(size)) break;
      send_ack(sequence, wire::AckStatus::kFailed, kShuttingDownMessage);
      continue;
    }
    auto lease = context_.ingest.admit(size);
    if (!lease) {
      if (!co_await discard(size)) break;
      send_ack(sequence, wire::AckStatus::kBusy, "over memory budget (memory_limit); retry later");
      paused_for_budget_ = true;
      continue;
    }
    BodyInProgress in_progress(context_.metrics);
    std::string payload(size, '\0');
    stream_.expires_after(config->body_timeout);
    auto [body_ec, got] = co_await asio::async_read(stream_, asio::buffer(payload),
                                                    asio::as_tuple(asio::use_awaitable));
    if (body_ec) {
      if (body_ec == beast::error::timeout) {
        context_.metrics.timeouts_body.fetch_add(1, std::memory_order_relaxed);
      }
      broken_ = true;
      break;
    }
    auto self = shared_from_this();
    context_.ingest.submit(
        payload, Transport::kUds, received_at, [self, sequence](SnapshotResult result) {
          asio::post(self->stream_.get_executor(), [self, sequence, result = std::move(result)] {
            self->on_result(sequence, result);
          });
        });
    payload.clear();
    payload.shrink_to_fit();
    lease->reset();  // the frame is gone; the record holds its own lease
  }
  // Answer every frame in flight before closing (invariant 8), unless the
  // connection is already broken. Writers answer each record within the
  // shutdown deadline, so this wait ends.
  while (inflight_ > 0 && !broken_) {
    co_await wait_for_wake(std::chrono::milliseconds(100));
  }
  done_ = true;
  linger_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
  stream_.close();
}

void UdsSession::on_result(std::uint64_t sequence, const SnapshotResult& result) {
  if (!result.error) {
    send_ack(sequence, wire::AckStatus::kCommitted, {});
    return;
  }
  wire::AckStatus status = wire::AckStatus::kFailed;
  if (result.error.category() == xray::xray_category()) {
    status = xray::ack_status(static_cast<Errc>(result.error.value()));
  }
  // Refused while parsing (the document did not fit): pause like a refusal
  // before reading (invariant 3).
  if (status == wire::AckStatus::kBusy) paused_for_budget_ = true;
  send_ack(sequence, status, result.message);
}

void UdsSession::frame_answered() {
  // Belief: every ack answers exactly one frame counted when its header was read.
  XRAY_DCHECK(inflight_ > 0);
  --inflight_;
  context_.metrics.uds_frames_inflight.fetch_sub(1, std::memory_order_relaxed);
  wake_.cancel();
}

void UdsSession::send_ack(std::uint64_t sequence, wire::AckStatus status,
                          std::string_view message) {
  if (broken_) {
    // Nobody to tell; the client resends what it did not see acknowledged.
    frame_answered();
    return;
  }
  outbox_.push_back(wire::encode_ack_frame(sequence, status, message));
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(stream_.get_executor(), write_loop(),
                   [self = shared_from_this()](std::exception_ptr e) { self->log_exception(e); });
  }
}

asio::awaitable<void> UdsSession::write_loop() {
  while (!outbox_.empty() && !broken_) {
    auto [ec, n] = co_await asio::async_write(stream_.socket(), asio::buffer(outbox_.front()),
                                              asio::as_tuple(asio::use_awaitable));
    if (ec) {
      broken_ = true;
      stream_.socket().cancel();
      break;
    }
    outbox_.pop_front();
    frame_answered();
  }
  // Acks that can no longer be written still release their frames' slots.
  for (std::size_t i = 0; i < outbox_.size(); ++i) frame_answered();
  outbox_.clear();
  writing_ = false;
}

}  // namespace xrayd
