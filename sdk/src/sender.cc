#include "sender.h"

#include <algorithm>
#include <exception>
#include <poll.h>

namespace xray::sdk {
namespace {

// The sender looks at the queue at least this often. Application threads
// never wake it (that would be a system call on their side, invariant 6).
constexpr int kIdlePollMillis = 5;
// Frames copied into the socket's buffer ahead of what the kernel took.
constexpr std::size_t kSocketBufferTarget = 256 << 10;
// HTTP requests are synchronous; after this many in one iteration the loop
// goes round (flush deadlines, acks, the queue) before sending more.
constexpr int kMaxHttpPerIteration = 16;
// Drops counted on application threads are logged at most this often.
constexpr auto kDropLogInterval = std::chrono::seconds(1);

// The "id" of a snapshot for log lines: the serialiser writes it first.
std::string_view snapshot_id(std::string_view payload) {
  constexpr std::string_view kPrefix = "{\"id\":\"";
  if (payload.substr(0, kPrefix.size()) != kPrefix) return "?";
  auto rest = payload.substr(kPrefix.size());
  return rest.substr(0, std::min<std::size_t>(rest.find('"'), 64));
}

}  // namespace

Sender::Clock::duration Sender::Backoff::next(std::mt19937_64& rng) {
  auto d = min_ * (1LL << std::min(attempts_, 20));
  if (d > max_) d = max_;
  ++attempts_;
  // "Equal jitter": at least half the delay, so reconnects stay spaced out,
  // and a random rest, so many clients do not retry in step.
  std::uniform_int_distribution<long long> rest(0, std::max<long long>(d.count() / 2, 0));
  return std::chrono::milliseconds(d.count() - d.count() / 2 + rest(rng));
}

Sender::Sender(std::shared_ptr<Core> core, FileLayer* files)
    : core_(std::move(core)),
      config_(core_->config()),
      files_(files != nullptr ? *files : posix_files_),
      uds_backoff_(config_.reconnect_min, config_.reconnect_max),
      http_backoff_(config_.reconnect_min, config_.reconnect_max),
      busy_backoff_(config_.reconnect_min, config_.reconnect_max),
      thread_([this] { run(); }) {}

Sender::~Sender() {
  stop_.store(true);
  core_->wake();
  thread_.join();
}

void Sender::run() {
  // Thread boundary (STYLE §4): nothing may escape into std::terminate and
  // take the application down. Without the sender, memory fills and further
  // snapshots are dropped and counted.
  try {
    rng_.seed(std::random_device{}());
    if (!config_.spool_dir.empty()) {
      SpoolOptions options;
      options.dir = config_.spool_dir;
      options.max_bytes = config_.spool_max_bytes;
      options.segment_bytes = config_.spool_segment_bytes;
      options.sync = config_.spool_sync;
      options.warn = [core = core_.get()](std::string_view m) { core->log(LogLevel::kWarn, m); };
      auto spool = Spool::open(std::move(options), files_);
      if (spool) {
        spool_ = std::move(*spool);
      } else {
        core_->log(LogLevel::kError, "cannot use spool directory " + config_.spool_dir + ": " +
                                         spool.error().message() +
                                         "; snapshots the daemon cannot take will be dropped");
      }
    }
    if (!config_.http_endpoint.empty()) {
      auto endpoint = parse_http_endpoint(config_.http_endpoint);
      if (endpoint) {
        // A request in progress gives way to a flush deadline or stop, so
        // that flush() and the destructor keep their time limits.
        http_ = std::make_unique<HttpClient>(std::move(*endpoint), [this] {
          auto spill = core_->spill_deadline();
          return stop_.load() || (spill && Clock::now() >= *spill);
        });
      } else {
        core_->log(LogLevel::kError, "ignoring bad http_endpoint '" + config_.http_endpoint + "'");
      }
    }
    loop();
    shutdown();
  } catch (const std::exception& e) {
    core_->log(LogLevel::kError, std::string("sender thread stopped: ") + e.what());
  }
}

void Sender::loop() {
  auto next_drop_log = Clock::now();
  std::uint64_t drops = 0;
  while (!stop_.load()) {
    auto now = Clock::now();
    take_from_queue();
    if (auto spill = core_->spill_deadline(); spill && now >= *spill) spill_memory();
    maintain_connection(now);
    route_backlog(now);
    replay(now);
    finish_iteration();
    wait_for_io(now);
    now = Clock::now();
    handle_acks(now);
    check_ack_timeouts(now);
    finish_iteration();

    drops += core_->take_memory_drops();
    if (drops > 0 && now >= next_drop_log) {
      core_->log(LogLevel::kWarn,
                 "memory limit reached: dropped " + std::to_string(drops) +
                     " snapshots (the sender cannot keep up, even with the spool)");
      drops = 0;
      next_drop_log = now + kDropLogInterval;
    }
  }
}

void Sender::shutdown() {
  take_from_queue();
  spill_memory();
  for (auto& [sequence, f] : in_flight_) give_back(std::move(f));  // replays stay on disk
  in_flight_.clear();
  in_flight_bytes_ = 0;
  finish_iteration();
  uds_.reset();
  http_.reset();
  spool_.reset();  // seals the active segment, releases claims
}

void Sender::take_from_queue() {
  std::string batch[64];
  while (std::size_t n = core_->take(batch, 64)) {
    for (std::size_t i = 0; i < n; ++i) backlog_.push_back(std::move(batch[i]));
  }
}

bool Sender::uds_usable(Clock::time_point now) const { return uds_ && now >= paused_until_; }

bool Sender::http_usable(Clock::time_point now) const {
  return http_ && !uds_ && now >= http_retry_at_ && now >= paused_until_;
}

bool Sender::window_has_room(std::size_t bytes) const {
  if (in_flight_.empty()) return true;  // one snapshot, however large, may always go
  return in_flight_.size() < config_.max_inflight &&
         in_flight_bytes_ + bytes <= config_.memory_limit_bytes / 2;
}

Sender::Clock::time_point Sender::send_deadline(Clock::time_point now) const {
  auto deadline = now + config_.ack_timeout;
  if (auto spill = core_->spill_deadline()) deadline = std::min(deadline, *spill);
  return std::max(deadline, now + std::chrono::milliseconds(1));
}

void Sender::maintain_connection(Clock::time_point now) {
  if (uds_ || config_.socket_path.empty() || now < uds_retry_at_) return;
  auto connection = UdsConnection::connect(config_.socket_path);
  if (connection) {
    uds_ = std::move(*connection);
    if (uds_down_logged_) {
      core_->log(LogLevel::kInfo, "connected to xrayd at " + config_.socket_path);
    }
    if (spool_) spool_->request_scan();  // the daemon is back: replay what waits
    return;
  }
  if (!uds_down_logged_) {
    core_->log(LogLevel::kWarn, "cannot reach xrayd at " + config_.socket_path + ": " +
                                    connection.error().message() +
                                    (http_ ? "; using HTTP, then the spool" : "; spooling"));
    uds_down_logged_ = true;
  }
  uds_retry_at_ = now + uds_backoff_.next(rng_);
}

void Sender::route_backlog(Clock::time_point now) {
  int http_sent = 0;
  while (!backlog_.empty()) {
    const std::size_t bytes = backlog_.front().size();
    const bool memory_tight = core_->memory_bytes() > config_.memory_limit_bytes / 2;
    if (uds_usable(now)) {
      if (window_has_room(bytes)) {
        send_uds(std::move(backlog_.front()), std::nullopt, now);
        backlog_.pop_front();
        continue;
      }
      if (!memory_tight) break;  // wait for acks to open the window
    } else if (http_usable(now)) {
      if (http_sent < kMaxHttpPerIteration) {
        std::string payload = std::move(backlog_.front());
        backlog_.pop_front();
        send_http(std::move(payload), std::nullopt);
        ++http_sent;
        now = Clock::now();
        continue;
      }
      if (!memory_tight) break;
    }
    // No usable route, or memory is tight: the spool takes it (or it is dropped).
    spool_or_drop(backlog_.front());
    backlog_.pop_front();
  }
}

void Sender::replay(Clock::time_point now) {
  if (!spool_ || !backlog_.empty()) return;  // new snapshots first
  int http_sent = 0;
  for (;;) {
    const bool via_uds = uds_usable(now);
    const bool via_http = !via_uds && http_usable(now);
    if (!via_uds && !via_http) return;
    if (via_http && http_sent >= kMaxHttpPerIteration) return;
    if (via_uds && (in_flight_.size() >= config_.max_inflight ||
                    in_flight_bytes_ >= config_.memory_limit_bytes / 4)) {
      return;
    }
    // Replay uses at most half the memory limit, so that the application's
    // new snapshots always find room (core.h invariant 1).
    if (core_->memory_bytes() >= config_.memory_limit_bytes / 2) return;
    auto record = spool_->next();
    if (!record) return;
    core_->hold_memory(record->payload.size());
    if (via_uds) {
      send_uds(std::move(record->payload), record->ref, now);
    } else {
      send_http(std::move(record->payload), record->ref);
      ++http_sent;
      now = Clock::now();
    }
  }
}

void Sender::send_uds(std::string payload, std::optional<SpoolRecordRef> ref,
                      Clock::time_point now) {
  const std::uint64_t sequence = next_sequence_++;
  in_flight_bytes_ += payload.size();
  in_flight_.emplace(sequence, InFlight{std::move(payload), ref, now + config_.ack_timeout});
  unwritten_.push_back(sequence);
  core_->counters_.sent.fetch_add(1, std::memory_order_relaxed);
}

void Sender::send_http(std::string payload, std::optional<SpoolRecordRef> ref) {
  core_->counters_.sent.fetch_add(1, std::memory_order_relaxed);
  auto deadline = send_deadline(Clock::now());
  auto status = http_->post_snapshot(payload, deadline);
  InFlight f{std::move(payload), ref, deadline};
  if (status && *status >= 200 && *status < 300) {
    on_committed(f);
    http_backoff_.reset();
    http_down_logged_ = false;
    return;
  }
  if (status && (*status == 400 || *status == 413 || *status == 415 || *status == 422)) {
    on_invalid(f, "HTTP " + std::to_string(*status));
    return;
  }
  // 503 (busy), other statuses and transport errors: retry later.
  if (!http_down_logged_) {
    core_->log(LogLevel::kWarn,
               "HTTP fallback to xrayd failed: " +
                   (status ? "HTTP " + std::to_string(*status) : status.error().message()) +
                   "; spooling");
    http_down_logged_ = true;
  }
  give_back(std::move(f));
  http_retry_at_ = Clock::now() + http_backoff_.next(rng_);
}

void Sender::on_committed(InFlight& f) {
  core_->release_memory(f.payload.size());
  if (f.spool_ref) {
    spool_->ack(*f.spool_ref);
    // Before `committed`, so that a reader who sees the commit sees the replay.
    core_->counters_.replayed.fetch_add(1, std::memory_order_release);
  } else {
    ++to_resolve_;
  }
  core_->counters_.committed.fetch_add(1, std::memory_order_release);
}

void Sender::on_invalid(InFlight& f, std::string_view message) {
  // Logged once, here, and never retried: sending it again cannot help.
  core_->counters_.invalid.fetch_add(1, std::memory_order_relaxed);
  core_->log(LogLevel::kWarn, "xrayd rejected snapshot " + std::string(snapshot_id(f.payload)) +
                                  " as invalid (" + std::string(message) + "); it is not retried");
  core_->release_memory(f.payload.size());
  if (f.spool_ref) {
    spool_->ack(*f.spool_ref);
  } else {
    ++to_resolve_;
  }
}

void Sender::give_back(InFlight&& f) {
  if (f.spool_ref) {
    core_->release_memory(f.payload.size());
    spool_->nack(*f.spool_ref);  // still on disk; handed out again later
  } else {
    spool_or_drop(f.payload);
  }
}

void Sender::spool_or_drop(const std::string& payload) {
  const std::uint64_t bytes = payload.size();
  if (!spool_) {
    core_->counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    if (!spool_full_logged_) {
      core_->log(LogLevel::kWarn, "xrayd cannot take snapshots and there is no spool: dropping");
      spool_full_logged_ = true;
    }
  } else if (auto r = spool_->append(payload); r) {
    core_->counters_.spooled.fetch_add(1, std::memory_order_relaxed);
    spool_appended_ = true;
    spool_full_logged_ = false;
  } else {
    core_->counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    if (r.error() == Errc::kSpoolFull) {
      if (!spool_full_logged_) {
        core_->log(LogLevel::kWarn, "spool " + config_.spool_dir + " is full (" +
                                        std::to_string(config_.spool_max_bytes) +
                                        " bytes): dropping snapshots until it drains");
        spool_full_logged_ = true;
      }
    } else {
      core_->log(LogLevel::kError, "spool write failed (" + r.error().message() + "): snapshot " +
                                       std::string(snapshot_id(payload)) + " dropped");
    }
  }
  core_->release_memory(bytes);
  ++to_resolve_;
}

void Sender::break_connection(std::string_view why, Clock::time_point now) {
  if (!uds_down_logged_) {
    core_->log(LogLevel::kWarn, "lost xrayd at " + config_.socket_path + ": " + std::string(why) +
                                    "; unacknowledged snapshots go to the spool");
    uds_down_logged_ = true;
  }
  uds_.reset();
  for (auto& [sequence, f] : in_flight_) give_back(std::move(f));
  in_flight_.clear();
  in_flight_bytes_ = 0;
  unwritten_.clear();
  uds_retry_at_ = now + uds_backoff_.next(rng_);
}

void Sender::pause_for_busy(std::string_view why, Clock::time_point now) {
  paused_until_ = now + busy_backoff_.next(rng_);
  if (!busy_logged_) {
    core_->log(LogLevel::kWarn, "xrayd answered " + std::string(why) + "; pausing and spooling");
    busy_logged_ = true;
  }
}

void Sender::wait_for_io(Clock::time_point now) {
  pollfd fds[2] = {{core_->wake_fd(), POLLIN, 0}, {-1, 0, 0}};
  nfds_t count = 1;
  if (uds_) {
    while (!unwritten_.empty() && uds_->unwritten_bytes() < kSocketBufferTarget) {
      auto it = in_flight_.find(unwritten_.front());
      if (it != in_flight_.end()) uds_->queue_frame(it->first, it->second.payload);
      unwritten_.pop_front();
    }
    if (auto w = uds_->write_some(); !w) {
      break_connection("write failed: " + w.error().message(), now);
    } else {
      fds[1] = {uds_->fd(),
                static_cast<short>(POLLIN | (uds_->unwritten_bytes() > 0 ? POLLOUT : 0)), 0};
      count = 2;
    }
  }
  if (::poll(fds, count, kIdlePollMillis) > 0 && (fds[0].revents & POLLIN)) core_->clear_wake();
}

void Sender::handle_acks(Clock::time_point now) {
  if (!uds_) return;
  auto result = uds_->read_acks();
  for (Ack& ack : result.acks) {
    auto it = in_flight_.find(ack.sequence);
    if (it == in_flight_.end()) continue;  // already spooled (timeout or flush); a late ack
    InFlight f = std::move(it->second);
    in_flight_.erase(it);
    in_flight_bytes_ -= f.payload.size();
    switch (ack.status) {
      case wire::AckStatus::kCommitted:
        on_committed(f);
        uds_backoff_.reset();
        busy_backoff_.reset();
        uds_down_logged_ = false;
        busy_logged_ = false;
        break;
      case wire::AckStatus::kInvalid:
        on_invalid(f, ack.message);
        break;
      case wire::AckStatus::kBusy:
      case wire::AckStatus::kFailed:
        give_back(std::move(f));
        pause_for_busy(std::string(wire::to_string(ack.status)) +
                           (ack.message.empty() ? "" : " (" + ack.message + ")"),
                       now);
        break;
    }
  }
  if (result.error) break_connection(result.error.message(), now);
}

void Sender::check_ack_timeouts(Clock::time_point now) {
  // Deadlines grow with the sequence number, so the first entry is the oldest.
  if (!in_flight_.empty() && in_flight_.begin()->second.deadline <= now) {
    break_connection("no ack within " + std::to_string(config_.ack_timeout.count()) + " ms", now);
  }
}

void Sender::spill_memory() {
  while (!backlog_.empty()) {
    spool_or_drop(backlog_.front());
    backlog_.pop_front();
  }
  // Frames already written may still be committed by the daemon; the spooled
  // copy is then a duplicate, which the daemon's idempotent merge absorbs
  // (DESIGN invariant 4). Late acks for them are ignored.
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second.spool_ref) {
      ++it;
      continue;
    }
    in_flight_bytes_ -= it->second.payload.size();
    spool_or_drop(it->second.payload);
    it = in_flight_.erase(it);
  }
}

void Sender::finish_iteration() {
  if (spool_ && spool_appended_) {
    // One fdatasync per batch of appends, before anyone hears "spooled".
    if (auto r = spool_->sync(); !r) {
      core_->log(LogLevel::kError, "spool sync failed: " + r.error().message());
    }
    spool_appended_ = false;
  }
  if (spool_) {
    core_->counters_.spool_corrupt.store(spool_->corrupt_records(), std::memory_order_relaxed);
    core_->counters_.spool_bytes.store(spool_->total_bytes(), std::memory_order_relaxed);
  }
  core_->resolved(to_resolve_);  // last: a returning flush() sees the gauges above
  to_resolve_ = 0;
}

}  // namespace xray::sdk
