#include "daemon/budget.h"

#include <utility>

#include "daemon/check.h"

namespace xrayd {

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    reset();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void Lease::reset() {
  if (budget_ != nullptr && bytes_ > 0) budget_->release(bytes_);
  bytes_ = 0;
}

void Lease::shrink_to(std::size_t new_bytes) {
  if (budget_ == nullptr || new_bytes >= bytes_) return;
  budget_->release(bytes_ - new_bytes);
  bytes_ = new_bytes;
}

Lease Lease::split(std::size_t n) {
  // Belief: callers split off at most what they hold.
  XRAY_CHECK(n <= bytes_);
  bytes_ -= n;
  return Lease(budget_, n);
}

std::optional<Lease> Budget::try_acquire(std::size_t n) {
  Lease lease(this, 0);
  if (!try_grow(lease, n)) return std::nullopt;
  return lease;
}

bool Budget::try_grow(Lease& lease, std::size_t n) {
  // Invariant 2: compare-and-swap so that concurrent sessions can never push
  // the total past the limit between the check and the add.
  std::size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (held + n > limit_bytes()) return false;
  } while (!held_.compare_exchange_weak(held, held + n, std::memory_order_relaxed));
  std::size_t now = held + n;
  std::size_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
  lease.budget_ = this;
  lease.bytes_ += n;
  return true;
}

void Budget::release(std::size_t n) {
  std::size_t before = held_.fetch_sub(n, std::memory_order_relaxed);
  // Belief: a lease never gives back more than it took.
  XRAY_CHECK(before >= n);
}

}  // namespace xrayd
