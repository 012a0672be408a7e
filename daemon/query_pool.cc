#include "daemon/query_pool.h"

#include <algorithm>
#include <exception>
#include <pthread.h>

#include "daemon/check.h"

namespace xrayd {
namespace {

// How often stop() cancels running statements once its deadline has passed.
constexpr std::chrono::milliseconds kCancelInterval{100};

}  // namespace

QueryPool::QueryPool(Options options, Logger& log) : options_(std::move(options)), log_(log) {}

QueryPool::~QueryPool() { stop(Clock::now()); }

void QueryPool::start() {
  // Belief: start() is called once, by the owner.
  XRAY_CHECK(workers_.empty());
  for (std::size_t i = 0; i < options_.connections; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->id = static_cast<int>(i + 1);
    workers_.push_back(std::move(worker));
  }
  for (auto& w : workers_) w->thread = std::thread([this, &w = *w] { run(w); });
}

void QueryPool::submit(Job job) {
  JobStatus refused = JobStatus::kRun;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      refused = JobStatus::kShuttingDown;
    } else if (queue_.size() >= options_.max_queued) {
      refused = JobStatus::kBusy;
    } else {
      queue_.push_back({std::move(job), Clock::now()});
    }
  }
  if (refused == JobStatus::kRun) {
    cv_.notify_one();
    return;
  }
  // Pool invariant 1: a refused job is answered here, outside the lock.
  call(job, nullptr, refused);
}

std::size_t QueryPool::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

std::size_t QueryPool::connected() const { return connected_.load(std::memory_order_relaxed); }

void QueryPool::stop(Clock::time_point deadline) {
  std::deque<Queued> left;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& q : left) call(q.job, nullptr, JobStatus::kShuttingDown);
  for (auto& w : workers_) {
    if (!w->thread.joinable()) continue;
    const auto exited = [&w] { return w->exited.load(std::memory_order_acquire); };
    // A running statement ends by itself within statement_timeout; past the
    // deadline it is cancelled, and again every kCancelInterval in case the
    // cancel fell between two statements. Shutdown only, so polling is fine.
    while (!exited() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    while (!exited()) {
      {
        MutexLock lock(w->cancel_mu);
        if (w->canceler != nullptr) w->canceler->cancel();
      }
      std::this_thread::sleep_for(kCancelInterval);
    }
    w->thread.join();
  }
}

void QueryPool::call(Job& job, PgConnection* conn, JobStatus status) {
  try {
    job(conn, status);
  } catch (const std::exception& e) {
    log_.error("query", "a query job threw: ", e.what());
  } catch (...) {
    log_.error("query", "a query job threw an unknown exception");
  }
}

std::unique_ptr<PgConnection> QueryPool::connect(Worker& worker) {
  auto conn = PgConnection::connect(options_.conninfo, "xrayd-query-" + std::to_string(worker.id));
  PgResult<void> ready = conn ? (*conn)->exec("SET statement_timeout = " +
                                              std::to_string(options_.statement_timeout.count()) +
                                              "; SET default_transaction_read_only = on")
                              : PgResult<void>(conn.error());
  if (!ready) {
    log_.warn("query[" + std::to_string(worker.id) + "]",
              "cannot connect to PostgreSQL: ", ready.error().client_message());
    return nullptr;
  }
  (*conn)->set_notice_handler([this, id = worker.id](std::string_view notice) {
    log_.warn("query[" + std::to_string(id) + "]", "PostgreSQL: ", notice);
  });
  return std::move(*conn);
}

void QueryPool::run(Worker& worker) {
  const std::string thread_name = ("xrayd-query-" + std::to_string(worker.id)).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  const std::string name = "query[" + std::to_string(worker.id) + "]";
  std::unique_ptr<PgConnection> conn;
  Clock::time_point next_attempt{};
  std::chrono::milliseconds backoff{0};
  const auto try_connect = [&] {
    if (Clock::now() < next_attempt) return;
    conn = connect(worker);
    if (conn == nullptr) {
      backoff = backoff.count() == 0 ? options_.reconnect_min
                                     : std::min(backoff * 2, options_.reconnect_max);
      next_attempt = Clock::now() + backoff;
      return;
    }
    backoff = {};
    connected_.fetch_add(1, std::memory_order_relaxed);
  };
  const auto drop = [&] {
    conn.reset();
    connected_.fetch_sub(1, std::memory_order_relaxed);
  };
  try_connect();
  for (;;) {
    Queued next;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) cv_.wait(mu_);
      if (stopping_) break;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    // Pool invariant 2: a job that waited past the timeout would only add to the load.
    if (Clock::now() - next.submitted > options_.statement_timeout) {
      call(next.job, nullptr, JobStatus::kExpired);
      continue;
    }
    // A server that closed the connection while it was idle is noticed here,
    // before the job is lost to it.
    if (conn != nullptr && !conn->poll_healthy()) {
      log_.warn(name, "PostgreSQL closed the connection; reconnecting");
      drop();
    }
    if (conn == nullptr) try_connect();
    if (conn == nullptr) {
      call(next.job, nullptr, JobStatus::kUnavailable);
      continue;
    }
    {
      MutexLock lock(worker.cancel_mu);
      worker.canceler = conn->make_canceler();
    }
    call(next.job, conn.get(), JobStatus::kRun);
    {
      MutexLock lock(worker.cancel_mu);
      worker.canceler.reset();
    }
    if (!conn->healthy()) {
      log_.warn(name, "lost the PostgreSQL connection during a query");
      drop();
    } else if (auto rolled_back = conn->rollback_if_open(); !rolled_back) {
      drop();
    }
  }
  if (conn != nullptr) drop();
  worker.exited.store(true, std::memory_order_release);  // pairs with stop()'s acquire
}

}  // namespace xrayd
