#include "daemon/budget_resource.h"

#include <cstdlib>
#include <malloc.h>

namespace xrayd {

void* BudgetResource::do_allocate(std::size_t n, std::size_t align) {
  // Blocks come from malloc so that malloc_usable_size() gives what the
  // allocator really holds for each (jemalloc's size classes included).
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(n)
                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();  // the system is out of memory: fatal upstream
  // Invariant 2: the document's memory is part of what the snapshot holds.
  if (!budget_.try_grow(lease_, ::malloc_usable_size(p))) {
    std::free(p);
    throw BudgetExhausted();
  }
  return p;
}

void BudgetResource::do_deallocate(void* p, std::size_t, std::size_t) {
  // The size passed in is not always the size asked for (monotonic_resource
  // passes its block's payload size), so give back what was taken for p.
  const std::size_t bytes = ::malloc_usable_size(p);
  std::free(p);
  lease_.shrink_to(lease_.bytes() - bytes);
}

}  // namespace xrayd
