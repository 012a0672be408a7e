// XRAY_CHECK / XRAY_DCHECK: programmer errors, never input errors (STYLE.md §4).
// Each use carries a comment giving the belief checked. A failed check prints
// the condition and location to stderr and aborts.
#pragma once

#include <cstdio>
#include <cstdlib>

#define XRAY_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#ifdef NDEBUG
#define XRAY_DCHECK(cond) \
  do {                    \
  } while (0)
#else
#define XRAY_DCHECK(cond) XRAY_CHECK(cond)
#endif
