// BudgetResource: a memory resource for Boost.JSON whose every allocation is
// taken from the Budget (invariant 2).
//
// A parsed snapshot (its boost::json document) takes four to seven times
// the bytes of its JSON text, far more than anything else held for it, and
// for a short while it exists beside the body it came from and the COPY rows
// made from it. Parsing into this resource accounts the document byte for
// byte — the allocator's usable size of each block, whatever the shape of
// the JSON — so that a large snapshot, or many at once, cannot take the
// process past memory_limit. An allocation the Budget cannot cover throws
// BudgetExhausted, which parse_snapshot() turns into Errc::kBusy.
//
// Meant as the upstream of a monotonic_resource: it hands out few, large
// blocks. charge() adds bytes held beside the document (the parser's views
// of it) to the same lease. Used by one thread at a time; the Budget must
// outlive it, and it must outlive every document allocated from it (pass it
// as a non-owning boost::json::storage_ptr and declare it before them).
#pragma once

#include <cstddef>
#include <new>

#include <boost/json/memory_resource.hpp>

#include "daemon/budget.h"

namespace xrayd {

// Thrown by BudgetResource when the Budget refuses an allocation.
class BudgetExhausted : public std::bad_alloc {
 public:
  const char* what() const noexcept override { return "over memory_limit"; }
};

class BudgetResource : public boost::json::memory_resource {
 public:
  explicit BudgetResource(Budget& budget) : budget_(budget) {}
  BudgetResource(const BudgetResource&) = delete;
  BudgetResource& operator=(const BudgetResource&) = delete;
  ~BudgetResource() override = default;

  // Adds `bytes` held elsewhere for the same snapshot to this lease; false
  // (nothing taken) if the Budget refuses.
  [[nodiscard]] bool charge(std::size_t bytes) { return budget_.try_grow(lease_, bytes); }

  // Bytes taken from the Budget now.
  std::size_t held_bytes() const { return lease_.bytes(); }

 private:
  void* do_allocate(std::size_t n, std::size_t align) override;
  void do_deallocate(void* p, std::size_t n, std::size_t align) override;
  bool do_is_equal(const boost::json::memory_resource& other) const noexcept override {
    return this == &other;
  }

  Budget& budget_;
  Lease lease_;
};

}  // namespace xrayd
