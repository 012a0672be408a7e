// AckWaiter: lets a session coroutine wait until every snapshot it submitted
// has been answered, without blocking its thread.
//
// set() and wait() must both run on the session's strand: writers post their
// results there (Ingest's callbacks may also run inline on the strand). The
// waiter is shared: a late result may arrive after the session is gone.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/ingest.h"

namespace xrayd {

class AckWaiter : public std::enable_shared_from_this<AckWaiter> {
 public:
  AckWaiter(boost::asio::any_io_executor strand, std::size_t count)
      : strand_(std::move(strand)),
        timer_(strand_, std::chrono::steady_clock::time_point::max()),
        results_(count),
        remaining_(count) {}

  // A callback for Ingest::submit() that delivers result `index` on the strand.
  ResultCallback callback_for(std::size_t index) {
    return [self = shared_from_this(), index](SnapshotResult result) {
      boost::asio::post(self->strand_, [self, index, result = std::move(result)]() mutable {
        self->set(index, std::move(result));
      });
    };
  }

  // Strand. Completes when every result is in.
  boost::asio::awaitable<void> wait() {
    while (remaining_ > 0) {
      co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
  }

  std::vector<SnapshotResult>& results() { return results_; }

 private:
  void set(std::size_t index, SnapshotResult result) {
    results_[index] = std::move(result);
    if (--remaining_ == 0) timer_.cancel();
  }

  boost::asio::any_io_executor strand_;
  boost::asio::steady_timer timer_;
  std::vector<SnapshotResult> results_;
  std::size_t remaining_;
};

}  // namespace xrayd
