// LoadDriver: a bounded load on a running xrayd from several client threads,
// recording what became of every snapshot it sent, for the resilience tests.
//
// Unix-socket clients keep a window of frames in flight on one connection,
// poll-driven and non-blocking, so a daemon that stops reading never blocks a
// thread past its deadline. HTTP clients post one snapshot per request on a
// keep-alive connection. Every snapshot gets a unique id
// (<prefix>-u<client>-<n> or <prefix>-h<client>-<n>) and ends in one outcome.
//
// Clients behave as the SDK would: after "busy" (UDS) or 503 busy they carry
// on (HTTP pauses briefly first); after "failed" or 503 shutting_down they
// send nothing more and only wait for the answers they are owed. Bounded:
// each client stops after max_per_client snapshots, after stop(), when its
// connection ends, or when an answer is overdue by answer_timeout (those
// snapshots stay unanswered).
//
// Threads: start(), stop(), join() and the accessors from the test thread;
// the accessors may be called while the clients run.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tests/support/pg_server.h"
#include "tests/support/snapshots.h"

namespace xray::testing {

enum class SnapshotOutcome {
  kUnanswered,  // sent (at least in part), no answer: connection lost or answer overdue
  kCommitted,   // HTTP 200 / UDS committed
  kRefused,     // HTTP 503 busy or too_many_connections / UDS busy: never stored
  kInvalid,     // HTTP 4xx / UDS invalid: never stored
  kFailed,      // HTTP 503 shutting_down or database_unavailable / UDS failed: may be stored
};
inline constexpr std::size_t kOutcomeCount = 5;
const char* to_string(SnapshotOutcome outcome);

struct LoadOptions {
  std::string socket_path;       // empty: no Unix-socket clients
  unsigned short http_port = 0;  // 0: no HTTP clients
  int uds_clients = 2;
  std::size_t uds_window = 16;  // frames in flight per Unix-socket client
  int http_clients = 1;
  std::size_t max_per_client = 1'000'000;
  std::chrono::milliseconds pace{0};  // least time between two sends of one client
  std::chrono::milliseconds answer_timeout{60'000};
  std::string prefix = "load";
  SnapshotSpec spec;  // the snapshot sent (its id is replaced)
};

class LoadDriver {
 public:
  explicit LoadDriver(LoadOptions options);
  ~LoadDriver();  // stop(), then join()
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  void start();
  // Clients send nothing new and wait for the answers they are owed.
  void stop();
  // Waits for every client thread to end (each is bounded, see above).
  void join();

  std::size_t count(SnapshotOutcome outcome) const;
  std::size_t sent() const;
  // Connections that could not be made (the snapshot was never sent).
  std::size_t connect_failures() const { return connect_failures_.load(); }
  // Waits until count(outcome) >= n; false if `within` passes first.
  bool wait_for(SnapshotOutcome outcome, std::size_t n, std::chrono::milliseconds within) const;
  std::vector<std::string> ids_with(SnapshotOutcome outcome) const;
  // "sent N: committed a, refused b, ..." for failure messages.
  std::string summary() const;

  const std::string& prefix() const { return options_.prefix; }
  int expected_steps() const { return 3 + options_.spec.extra_steps; }
  int expected_evaluations() const { return options_.spec.candidates; }

 private:
  void run_uds(int client);
  void run_http(int client);
  std::string snapshot_for(const std::string& id) const;
  void record(const std::string& id, SnapshotOutcome outcome);
  // Sleeps up to `d`, less if stop() is called; false once stopping.
  bool pause(std::chrono::milliseconds d);
  bool stopping() const { return stopping_.load(); }

  const LoadOptions options_;
  std::string before_id_;  // the snapshot JSON around its id
  std::string after_id_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> connect_failures_{0};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // notified on every outcome and on stop()
  std::unordered_map<std::string, SnapshotOutcome> outcomes_;  // guarded by mu_
  std::array<std::size_t, kOutcomeCount> counts_{};            // guarded by mu_
};

// Checks PostgreSQL against what `load` recorded: every committed snapshot is
// in `executions` exactly once with each of its steps and evaluations once,
// and no refused or invalid one is stored. Returns one line per problem
// (the first 20, then a count); empty when all is well.
std::vector<std::string> check_stored(const PgServer& pg, const LoadDriver& load);

}  // namespace xray::testing
