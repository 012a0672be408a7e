#include "daemon/uds_session.h"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

namespace xrayd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace wire = xray::wire;
using xray::Errc;

constexpr std::size_t kDiscardChunkBytes = 64 * 1024;
constexpr std::chrono::milliseconds kBudgetPoll{10};

void log_session_exception(Logger& log, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log.error("uds", "session ended by exception: ", ex.what());
  }
}

}  // namespace

UdsSession::UdsSession(asio::local::stream_protocol::socket&& socket, SessionContext& context)
    : stream_(std::move(socket)),
      context_(context),
      wake_(stream_.get_executor(), std::chrono::steady_clock::time_point::max()) {
  context_.metrics.connections_open.fetch_add(1, std::memory_order_relaxed);
}

UdsSession::~UdsSession() {
  context_.registry.remove(registry_id_);
  context_.metrics.connections_open.fetch_sub(1, std::memory_order_relaxed);
  context_.metrics.uds_frames_inflight.fetch_sub(static_cast<std::int64_t>(inflight_),
                                                 std::memory_order_relaxed);
}

void UdsSession::start() {
  registry_id_ = context_.registry.add(weak_from_this());
  asio::co_spawn(stream_.get_executor(), read_loop(),
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_session_exception(self->context_.log, e);
                 });
}

void UdsSession::shutdown() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    // Waiting for a frame: stop waiting. Frames in flight still get their acks.
    if (self->idle_) self->stream_.socket().cancel();
    self->wake_.cancel();
  });
}

asio::awaitable<void> UdsSession::wait_for_wake(std::chrono::milliseconds d) {
  wake_.expires_after(d);
  co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<bool> UdsSession::discard(std::size_t bytes) {
  std::array<char, kDiscardChunkBytes> chunk;
  auto config = context_.config.get();
  while (bytes > 0) {
    std::size_t n = std::min(bytes, chunk.size());
    stream_.expires_after(config->body_timeout);
    auto [ec, got] = co_await asio::async_read(stream_, asio::buffer(chunk.data(), n),
                                               asio::as_tuple(asio::use_awaitable));
    if (ec) co_return false;
    bytes -= got;
  }
  co_return true;
}

asio::awaitable<void> UdsSession::read_loop() {
  std::array<unsigned char, wire::kHeaderBytes> header_bytes{};
  bool paused_for_budget = false;
  for (;;) {
    if (stopping_ || broken_) break;
    auto config = context_.config.get();
    // Pause while too many frames are unacknowledged on this connection. A
    // client that stops reading its acks for idle_timeout is disconnected.
    auto pause_started = std::chrono::steady_clock::now();
    while (inflight_ >= config->max_inflight_frames && !stopping_ && !broken_) {
      if (std::chrono::steady_clock::now() - pause_started > config->idle_timeout) {
        context_.metrics.timeouts_idle.fetch_add(1, std::memory_order_relaxed);
        broken_ = true;
        stream_.socket().cancel();
        break;
      }
      co_await wait_for_wake(config->idle_timeout);
    }
    // Invariant 3: after a busy refusal, stop reading until memory is back
    // under the low watermark, instead of refusing frame after frame.
    while (paused_for_budget && !context_.budget.below_low_watermark() && !stopping_ &&
           !broken_) {
      co_await wait_for_wake(kBudgetPoll);
    }
    paused_for_budget = false;
    if (stopping_ || broken_) break;

    stream_.expires_after(config->idle_timeout);
    idle_ = true;
    auto [ec, n] = co_await asio::async_read(stream_, asio::buffer(header_bytes),
                                             asio::as_tuple(asio::use_awaitable));
    idle_ = false;
    if (ec) {
      if (ec == beast::error::timeout) {
        context_.metrics.timeouts_idle.fetch_add(1, std::memory_order_relaxed);
      }
      if (ec != asio::error::operation_aborted) broken_ = true;
      break;
    }
    auto received_at = std::chrono::steady_clock::now();
    wire::DecodedHeader decoded = wire::decode_header(header_bytes.data());
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
    if (context_.ingest.stopping()) {
      context_.metrics.refused_shutdown.fetch_add(1, std::memory_order_relaxed);
      if (!co_await discard(size)) break;
      send_ack(sequence, wire::AckStatus::kFailed, "the daemon is shutting down; retry");
      break;
    }
    auto lease = context_.ingest.admit(size);
    if (!lease) {
      if (!co_await discard(size)) break;
      send_ack(sequence, wire::AckStatus::kBusy, "over memory budget (memory_limit); retry later");
      paused_for_budget = true;
      context_.metrics.uds_reads_paused.fetch_add(1, std::memory_order_relaxed);
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
    ++inflight_;
    context_.metrics.uds_frames_inflight.fetch_add(1, std::memory_order_relaxed);
    auto self = shared_from_this();
    context_.ingest.submit(payload, Transport::kUds, received_at,
                           [self, sequence](SnapshotResult result) {
                             asio::post(self->stream_.get_executor(),
                                        [self, sequence, result = std::move(result)] {
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
  beast::error_code ignored;
  stream_.socket().shutdown(asio::socket_base::shutdown_both, ignored);
  stream_.close();
}

void UdsSession::on_result(std::uint64_t sequence, const SnapshotResult& result) {
  if (!result.error) {
    send_ack(sequence, wire::AckStatus::kCommitted, {}, true);
    return;
  }
  wire::AckStatus status = wire::AckStatus::kFailed;
  if (result.error.category() == xray::xray_category()) {
    status = xray::ack_status(static_cast<Errc>(result.error.value()));
  }
  send_ack(sequence, status, result.message, true);
}

void UdsSession::frame_answered() {
  --inflight_;
  context_.metrics.uds_frames_inflight.fetch_sub(1, std::memory_order_relaxed);
  wake_.cancel();
}

void UdsSession::send_ack(std::uint64_t sequence, wire::AckStatus status,
                          std::string_view message, bool answers_frame) {
  if (broken_) {
    // Nobody to tell; the client resends what it did not see acknowledged.
    if (answers_frame) frame_answered();
    return;
  }
  outbox_.push_back({wire::encode_ack_frame(sequence, status, message), answers_frame});
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(stream_.get_executor(), write_loop(),
                   [self = shared_from_this()](std::exception_ptr e) {
                     log_session_exception(self->context_.log, e);
                   });
  }
}

asio::awaitable<void> UdsSession::write_loop() {
  while (!outbox_.empty() && !broken_) {
    auto [ec, n] = co_await asio::async_write(
        stream_.socket(), asio::buffer(outbox_.front().frame), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      broken_ = true;
      stream_.socket().cancel();
      break;
    }
    bool answered = outbox_.front().answers_frame;
    outbox_.pop_front();
    if (answered) frame_answered();
  }
  // Acks that can no longer be written still release their frames' slots.
  for (const auto& pending : outbox_) {
    if (pending.answers_frame) frame_answered();
  }
  outbox_.clear();
  writing_ = false;
}

}  // namespace xrayd
