#include "core.h"

#include <algorithm>
#include <unistd.h>

#include <sys/eventfd.h>

namespace xray::sdk {
namespace {

// Part of a flush's time kept for spilling to the spool once the daemon has
// had its chance: a quarter of the timeout, at most 250 ms.
std::chrono::steady_clock::duration spill_margin(std::chrono::milliseconds timeout) {
  return std::min<std::chrono::steady_clock::duration>(timeout / 4, std::chrono::milliseconds(250));
}

}  // namespace

Core::Core(ClientConfig config)
    : config_(std::move(config)),
      context_{config_.app.empty() ? std::string("default") : config_.app, config_.environment},
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Core::~Core() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Core::submit(std::string&& snapshot) noexcept {
  counters_.recorded.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t n = snapshot.size();
  // Invariant 1 (and DESIGN invariant 6): admit only within the memory limit;
  // beyond it the sender is not even keeping up with the spool, so drop.
  if (closed_.load()) {
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (memory_bytes_.fetch_add(n) + n > config_.memory_limit_bytes) {
    memory_bytes_.fetch_sub(n);
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    memory_drops_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  pending_.fetch_add(1);  // before the enqueue, so a flush never misses it
  // Plain enqueue may allocate a block, but only for admitted bytes (STYLE §11.3).
  if (!queue_.enqueue(std::move(snapshot))) {
    memory_bytes_.fetch_sub(n);
    counters_.dropped.fetch_add(1, std::memory_order_relaxed);
    resolved(1);
  }
}

std::size_t Core::take(std::string* out, std::size_t max) {
  return queue_.try_dequeue_bulk(out, max);
}

void Core::resolved(std::uint64_t n) {
  if (n == 0) return;
  if (pending_.fetch_sub(n) == n) {
    std::lock_guard<std::mutex> lock(flush_mu_);  // pairs with the wait in flush()
    flush_cv_.notify_all();
  }
}

bool Core::flush(std::chrono::milliseconds timeout) {
  timeout = std::max(timeout, std::chrono::milliseconds(0));
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = now + timeout;
  std::unique_lock<std::mutex> lock(flush_mu_);
  auto mine = spill_at_.insert(deadline - spill_margin(timeout));
  flushers_.fetch_add(1);
  wake();
  bool done = flush_cv_.wait_until(lock, deadline, [&] { return pending_.load() == 0; });
  spill_at_.erase(mine);
  flushers_.fetch_sub(1);
  return done;
}

std::optional<std::chrono::steady_clock::time_point> Core::spill_deadline() {
  if (flushers_.load() == 0) return std::nullopt;
  std::lock_guard<std::mutex> lock(flush_mu_);
  if (spill_at_.empty()) return std::nullopt;
  return *spill_at_.begin();
}

void Core::wake() {
  std::uint64_t one = 1;
  // A full counter or a missing eventfd only costs the sender's poll interval.
  (void)!::write(wake_fd_, &one, sizeof one);
}

void Core::clear_wake() {
  std::uint64_t value = 0;
  (void)!::read(wake_fd_, &value, sizeof value);
}

Counters Core::counters() const {
  Counters c;
  // `committed` first (acquire): what was counted before a commit is then visible.
  c.committed = counters_.committed.load(std::memory_order_acquire);
  c.recorded = counters_.recorded.load(std::memory_order_relaxed);
  c.sent = counters_.sent.load(std::memory_order_relaxed);
  c.spooled = counters_.spooled.load(std::memory_order_relaxed);
  c.replayed = counters_.replayed.load(std::memory_order_relaxed);
  c.dropped = counters_.dropped.load(std::memory_order_relaxed);
  c.invalid = counters_.invalid.load(std::memory_order_relaxed);
  c.spool_corrupt = counters_.spool_corrupt.load(std::memory_order_relaxed);
  c.spool_bytes = counters_.spool_bytes.load(std::memory_order_relaxed);
  c.memory_bytes = memory_bytes_.load(std::memory_order_relaxed);
  return c;
}

void Core::log(LogLevel level, std::string_view message) const {
  if (config_.log) config_.log(level, message);
}

}  // namespace xray::sdk
