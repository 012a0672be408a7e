// Budget: the byte budget for snapshot data held by the daemon (invariant 2).
//
// Every byte held for a snapshot, from the first byte of its body read off a
// socket until its transaction commits (or it is rejected), is covered by a
// Lease taken from the Budget. try_acquire() refuses when the held bytes would
// pass `limit_bytes`; the caller then answers busy / 503 (invariant 3). After a
// refusal, transports pause reading until held bytes fall below the low
// watermark (half the limit), so the daemon does not spin on refusals.
//
// Thread-safety: every method may be called from any thread. The counter is a
// single atomic; no lock is taken.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace xrayd {

class Budget;

// Bytes held from a Budget; released when the Lease is destroyed or reset.
// Move-only. The Budget must outlive every Lease taken from it.
class Lease {
 public:
  Lease() = default;
  Lease(Budget* budget, std::size_t bytes) : budget_(budget), bytes_(bytes) {}
  Lease(Lease&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
    other.budget_ = nullptr;
    other.bytes_ = 0;
  }
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { reset(); }

  std::size_t bytes() const { return bytes_; }
  // Gives back all bytes now.
  void reset();
  // Gives back bytes so that `new_bytes` stay held; no-op if new_bytes >= bytes().
  void shrink_to(std::size_t new_bytes);
  // Splits `n` bytes (n <= bytes()) off into a new lease on the same budget.
  Lease split(std::size_t n);

 private:
  friend class Budget;
  Budget* budget_ = nullptr;
  std::size_t bytes_ = 0;
};

class Budget {
 public:
  explicit Budget(std::size_t limit_bytes) : limit_bytes_(limit_bytes) {}
  Budget(const Budget&) = delete;
  Budget& operator=(const Budget&) = delete;

  // Takes `n` bytes if held + n stays within the limit; nullopt otherwise
  // (invariant 2: the daemon never holds more than limit_bytes for snapshots).
  std::optional<Lease> try_acquire(std::size_t n);

  // Grows `lease` by `n` bytes under the same rule; false (lease unchanged) if refused.
  bool try_grow(Lease& lease, std::size_t n);

  std::size_t held_bytes() const { return held_.load(std::memory_order_relaxed); }
  std::size_t limit_bytes() const { return limit_bytes_.load(std::memory_order_relaxed); }
  std::size_t low_watermark_bytes() const { return limit_bytes() / 2; }
  bool below_low_watermark() const { return held_bytes() < low_watermark_bytes(); }
  // Highest held_bytes() seen since start.
  std::size_t peak_bytes() const { return peak_.load(std::memory_order_relaxed); }

  // SIGHUP reload. Lowering the limit never revokes leases; new work is
  // refused until held bytes fall under the new limit.
  void set_limit_bytes(std::size_t limit) { limit_bytes_.store(limit, std::memory_order_relaxed); }

 private:
  friend class Lease;
  void release(std::size_t n);

  std::atomic<std::size_t> limit_bytes_;
  std::atomic<std::size_t> held_{0};
  std::atomic<std::size_t> peak_{0};
};

}  // namespace xrayd
