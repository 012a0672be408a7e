// Record: one validated snapshot on its way to PostgreSQL, with its rows
// already encoded for COPY (daemon/copy_layout.h gives the column order) and
// the callback that acknowledges it.
//
// A session builds a Record on an io thread and hands it to the RecordQueue;
// from then on exactly one writer thread owns it. The writer calls
// `on_done` exactly once: with an empty error_code after the transaction that
// holds its rows has committed (invariant 1), or with an error and a message
// when it was rejected (invariant 5) or could not be written before shutdown.
// `on_done` must not block: it posts to the session's executor, and the
// session may already be gone. Destroying the Record releases its bytes from
// the Budget (its Lease), which is why the writer destroys it only after the
// ack.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include <boost/system/error_code.hpp>

#include "daemon/budget.h"

namespace xrayd {

struct Outcome {
  boost::system::error_code error;  // empty: committed
  std::string message;              // why, when error is set
};

using OutcomeCallback = std::function<void(Outcome)>;

struct Record {
  std::string app;
  std::string id;
  bool running = false;         // status "running": loses to a stored final snapshot (invariant 4)
  std::string execution_row;    // exactly one COPY text line (with '\n')
  std::string step_rows;        // zero or more COPY text lines
  std::string evaluation_rows;  // zero or more COPY text lines
  std::size_t step_count = 0;
  std::size_t evaluation_count = 0;
  std::chrono::steady_clock::time_point received_at{};
  Lease lease;  // bytes held for this record (invariant 2)
  OutcomeCallback on_done;

  // Bytes of COPY rows and key, for batch sizes (batch_max_bytes).
  std::size_t encoded_bytes() const {
    return app.size() + id.size() + execution_row.size() + step_rows.size() +
           evaluation_rows.size();
  }

  // Bytes this record keeps in memory until it is destroyed, for the Budget
  // (invariant 2): the allocator's usable size of each string's heap block
  // (so spare capacity and size-class rounding count too), plus an
  // allowance for the Record itself and its callbacks.
  std::size_t held_bytes() const;

  // Gives back spare capacity of the row strings when it is more than a
  // quarter of their size (small snapshots often have more).
  void trim();
};

}  // namespace xrayd
