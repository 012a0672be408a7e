#include "daemon/service.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <signal.h>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/budget.h"
#include "daemon/explorer_listener.h"
#include "daemon/ingest.h"
#include "daemon/listener.h"
#include "daemon/live_config.h"
#include "daemon/live_feed.h"
#include "daemon/metrics.h"
#include "daemon/query_pool.h"
#include "daemon/record_queue.h"
#include "daemon/session_registry.h"
#include "daemon/stream_hub.h"
#include "daemon/systemd.h"
#include "daemon/writer.h"

namespace xrayd {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Records the queue holds without allocating: one per KiB of memory_limit,
// within [4096, 1M]. Smaller average records than that meet "busy" first.
std::size_t queue_capacity(std::size_t memory_limit) {
  return std::clamp<std::size_t>(memory_limit / 1024, 4096, 1 << 20);
}

// Explorer queries that may wait for a pool connection, per connection: a
// dashboard opening a page sends a handful at once; beyond this the pool
// answers 503 rather than queueing without bound.
constexpr std::size_t kQueuedQueriesPerConnection = 16;

// The explorer's components, built only when explorer_listen is set. The
// pool and the live feed have their own PostgreSQL connections, never the
// writers' (docs/api.md).
struct Explorer {
  Explorer(const LiveConfig& live, const Config& config, Metrics& metrics, Logger& log)
      : pool(QueryPool::Options{config.query_postgres.empty() ? config.postgres
                                                              : config.query_postgres,
                                config.query_connections, config.query_timeout,
                                config.query_connections * kQueuedQueriesPerConnection,
                                config.reconnect_min, config.reconnect_max},
             log),
        hub(metrics),
        // LISTEN needs the primary, where the writers NOTIFY: a standby
        // named by query_postgres neither receives notices nor takes LISTEN.
        feed(LiveFeed::Options{config.postgres, config.query_timeout, config.reconnect_min,
                               config.reconnect_max},
             hub, metrics, log),
        context{live, pool, hub, metrics, log, registry} {}

  QueryPool pool;
  StreamHub hub;
  LiveFeed feed;
  SessionRegistry registry;  // the explorer's sessions
  // Outlives the io_context (declared before it), like every session's context.
  ExplorerContext context;
};

// Signals arrive on a dedicated thread (sigwait), writer failures on their
// writer's thread; both reach main as events.
enum class Event { kShutdown, kReload, kWriterFailed };

class SignalEvents {
 public:
  void push(Event e) {
    std::lock_guard lock(mu_);
    events_.push_back(e);
    cv_.notify_one();
  }
  Event wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !events_.empty(); });
    Event e = events_.front();
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> events_;
};

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::int64_t whole_ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Waits until `done()` or `deadline`, polling; main thread only.
template <class Done>
bool wait_until(Done done, Clock::time_point deadline) {
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

void schedule_watchdog(asio::steady_timer& timer, std::chrono::microseconds interval) {
  timer.expires_after(interval / 2);
  timer.async_wait([&timer, interval](boost::system::error_code ec) {
    if (ec) return;
    // Sent from the event loop, so a stuck loop stops the pings and systemd
    // restarts us.
    notify_systemd("WATCHDOG=1");
    schedule_watchdog(timer, interval);
  });
}

}  // namespace

int run_service(const LoadedConfig& loaded, Logger& log, const ConfigReloader& reload) {
  // Block the handled signals before any thread starts so every thread
  // inherits the mask and only the signal thread receives them.
  sigset_t signals = handled_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Config config = loaded.config;
  LiveConfig live(config);
  Metrics metrics;
  Budget budget(config.memory_limit);
  RecordQueue queue(queue_capacity(config.memory_limit));
  SignalEvents events;

  std::vector<std::unique_ptr<Writer>> writers;
  for (std::size_t i = 0; i < config.writers; ++i) {
    writers.push_back(
        std::make_unique<Writer>(static_cast<int>(i + 1), config, queue, metrics, log,
                                 [&events](int) { events.push(Event::kWriterFailed); }));
  }
  auto connected_writers = [&writers] {
    return static_cast<std::int64_t>(std::count_if(writers.begin(), writers.end(),
                                                   [](const auto& w) { return w->connected(); }));
  };

  std::unique_ptr<Explorer> explorer;
  if (!config.explorer_listen.empty())
    explorer = std::make_unique<Explorer>(live, config, metrics, log);

  Ingest ingest(live, budget, queue, metrics, log);
  // The drain's start and length (steady_clock counts; 0 = not yet), for /metrics.
  std::atomic<Clock::rep> drain_started{0};
  std::atomic<std::int64_t> drain_total_ms{0};
  auto ready = [&] {
    return drain_started.load() == 0 && !ingest.stopping() && connected_writers() > 0;
  };
  asio::io_context ioc(static_cast<int>(config.io_threads));
  SessionRegistry registry;
  SessionContext context{
      live,
      ingest,
      budget,
      metrics,
      log,
      registry,
      [&] {
        ScrapeGauges g;
        g.bytes_held = static_cast<std::int64_t>(budget.held_bytes());
        g.bytes_peak = static_cast<std::int64_t>(budget.peak_bytes());
        g.memory_limit = static_cast<std::int64_t>(budget.limit_bytes());
        g.queue_depth = static_cast<std::int64_t>(queue.depth());
        g.writers_connected = connected_writers();
        g.writers_total = static_cast<std::int64_t>(writers.size());
        g.ready = ready();
        // The outage is as long as the writer that lost PostgreSQL last has been without it.
        Clock::duration outage = Clock::duration::max();
        for (const auto& w : writers) {
          outage = std::min(outage, w->disconnected_for());
          g.pg_unavailable_live_ms += whole_ms(w->unsettled_unavailable());
        }
        g.pg_outage_ms = writers.empty() ? 0 : whole_ms(outage);
        if (explorer) {
          g.query_queue_depth = static_cast<std::int64_t>(explorer->pool.queued());
          g.query_connections = static_cast<std::int64_t>(explorer->pool.connected());
          g.query_connections_max = static_cast<std::int64_t>(config.query_connections);
        }
        if (auto total = drain_total_ms.load(); total > 0) {
          g.drain_ms = total;
        } else if (auto started = drain_started.load(); started != 0) {
          g.drain_ms = whole_ms(Clock::now() - Clock::time_point(Clock::duration(started)));
        }
        return g;
      },
      ready,
  };
  Listener listener(ioc, context);
  if (auto error = listener.open(config)) {
    log.error("service", *error);
    return 1;
  }
  std::optional<ExplorerListener> explorer_listener;
  if (explorer) {
    explorer_listener.emplace(ioc, explorer->context);
    if (auto error = explorer_listener->open(config.explorer_listen)) {
      log.error("service", *error);
      return 1;
    }
  }

  std::atomic<bool> shutting_down{false};
  std::thread signal_thread([&] {
    pthread_setname_np(pthread_self(), "xrayd-signals");
    for (;;) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        events.push(Event::kReload);
      } else if (shutting_down.exchange(true)) {
        // Invariant 8 allows a second signal to cut the drain short: what is
        // unacknowledged is still owned by its clients.
        log.warn("service", "second ", sig == SIGINT ? "SIGINT" : "SIGTERM", ": exiting now");
        std::_Exit(1);
      } else {
        log.info("service", "received ", sig == SIGINT ? "SIGINT" : "SIGTERM", ": shutting down");
        events.push(Event::kShutdown);
        // Keep waiting: a second signal must still be caught.
      }
    }
  });
  signal_thread.detach();

  for (auto& w : writers) w->start();
  listener.start();
  if (explorer) {
    explorer->pool.start();
    explorer->feed.start();
    explorer_listener->start();
  }
  // The watchdog's handlers run on the io threads until ioc.stop(), the drain
  // included (a long drain must keep systemd's watchdog fed); main never
  // touches the timer again, so it needs no lock.
  asio::steady_timer watchdog(ioc);
  if (auto interval = watchdog_interval()) schedule_watchdog(watchdog, *interval);
  auto work = asio::make_work_guard(ioc);
  std::vector<std::thread> io_threads;
  for (std::size_t i = 0; i < config.io_threads; ++i) {
    io_threads.emplace_back([&ioc, &log, i] {
      std::string name = "xrayd-io-" + std::to_string(i + 1);
      pthread_setname_np(pthread_self(), name.c_str());
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          log.error("io", "event loop exception: ", e.what());
        }
      }
    });
  }
  // The acceptors listen since open() and the io threads now run them, so a
  // client may connect from here on (socket-activated or not).
  notify_systemd("READY=1\nSTATUS=accepting snapshots");
  log.info("service", "ready: ", config.writers, " writer(s), ", config.io_threads,
           " io thread(s), memory_limit ", config.memory_limit, " bytes",
           explorer ? ", explorer " + explorer_listener->bound() : std::string(", explorer off"));

  int exit_code = 0;
  for (;;) {
    Event e = events.wait();
    if (e == Event::kShutdown) break;
    if (e == Event::kWriterFailed) {
      // STYLE §4: a writer boundary logs and exits; systemd restarts us
      // (Restart=on-failure). Only committed data was acknowledged (invariant 1),
      // and the drain below still answers everything accepted.
      log.error("service",
                "a writer thread failed (see above); draining and exiting with status "
                "1 so that the supervisor restarts xrayd");
      exit_code = 1;
      shutting_down.store(true);
      break;
    }
    // SIGHUP: reopen the log, then reload what can change safely.
    if (!log.reopen()) log.warn("service", "cannot reopen log file");
    auto fresh = reload();
    if (!fresh) {
      log.error("service",
                "reload rejected, keeping the running configuration: ", fresh.error().message);
      continue;
    }
    Config updated = *live.get();
    for (const auto& name : apply_reloadable(fresh->config, updated)) {
      log.warn("service", "reload: ", name, " changed but needs a restart");
    }
    budget.set_limit_bytes(updated.memory_limit);
    log.set_level(updated.log_level);
    for (auto& w : writers) w->update_settings(updated);
    live.set(updated);
    log.info("service", "configuration reloaded");
  }

  // Shutdown, in reverse order of startup (invariant 8).
  auto started = Clock::now();
  drain_started.store(started.time_since_epoch().count());
  auto config_now = live.get();
  auto deadline = started + config_now->shutdown_timeout;
  notify_systemd("STOPPING=1\nSTATUS=draining");
  // The explorer first: it holds no acknowledged data. Its sessions close
  // (a query in progress is answered), the feed stops listening, and the
  // pool answers what is queued and cancels what still runs after a moment.
  if (explorer) {
    explorer_listener->stop();
    explorer->registry.shutdown_all(deadline);
    explorer->feed.stop();
    constexpr std::chrono::seconds kQueryGrace{2};
    explorer->pool.stop(Clock::now() +
                        std::min<Clock::duration>(config_now->query_timeout, kQueryGrace));
  }
  // No new connections; those already in the backlog get stopping sessions.
  listener.stop(deadline);
  // Every session finishes what it is reading and answers what follows
  // "shutting down" until its client is quiet.
  registry.shutdown_all(deadline);
  log.info("service", "draining: listeners closed, ", registry.size(), " connection(s) open, ",
           queue.depth(), " snapshot(s) queued; deadline in ",
           whole_ms(config_now->shutdown_timeout), " ms");
  // Requests and frames whose bodies are being read finish and are queued;
  // after that, new snapshots are refused.
  wait_until([&] { return metrics.bodies_in_progress.load() == 0; },
             std::min(deadline, started + config_now->body_timeout));
  ingest.stop_accepting();
  // With no live writer nothing can drain: answer at once rather than at the deadline.
  bool any_writer =
      std::any_of(writers.begin(), writers.end(), [](const auto& w) { return !w->failed(); });
  auto writers_deadline = any_writer ? deadline : Clock::now();
  for (auto& w : writers) w->request_stop(writers_deadline);
  for (auto& w : writers) w->stop(writers_deadline);
  // Records still queued: every writer died, or a snapshot was parsed after
  // the writers drained (its body outlived the wait above). Answer them.
  const auto answer_left_over = [&] {
    if (auto left = answer_queued_as_shutting_down(queue, metrics); left > 0) {
      log.warn("service", "answered ", left, " snapshot(s) queued after the writers stopped",
               " as not stored");
    }
  };
  answer_left_over();
  auto drain = Clock::now() - started;
  drain_total_ms.store(std::max<std::int64_t>(1, whole_ms(drain)));
  // Every record has been answered; sessions write the acks and close once
  // their clients are quiet. Their reads end at the deadline; give the last
  // acks a moment to be written after that.
  constexpr std::chrono::seconds kCloseGrace{1};
  if (!wait_until([&] { return registry.size() == 0; },
                  std::max(deadline, Clock::now()) + kCloseGrace)) {
    log.warn("service", registry.size(),
             " connection(s) still open at the shutdown deadline; closing them");
  }
  answer_left_over();
  if (explorer) {
    constexpr std::chrono::seconds kExplorerCloseGrace{1};
    wait_until([&] { return explorer->registry.size() == 0; }, Clock::now() + kExplorerCloseGrace);
  }
  work.reset();
  ioc.stop();
  for (auto& t : io_threads) t.join();
  log.info("service", "stopped after draining for ", whole_ms(drain), " ms; ",
           metrics.committed.load(), " snapshot(s) committed since start");
  return exit_code;
}

}  // namespace xrayd
