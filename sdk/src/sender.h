// Sender: the SDK's one background thread. It takes finished snapshots from
// the Core's queue and sends them to xrayd, waits for each ack, and keeps
// whatever the daemon did not commit in the spool until it can be replayed.
//
// Routes, in order of preference: the Unix socket (frames pipelined up to
// max_inflight and half the memory limit, acks by sequence number); HTTP when
// the socket cannot be reached and an endpoint is configured (one request at
// a time); the spool. A snapshot leaves the SDK's care only on a committed ack
// (DESIGN invariant 1 on the daemon's side) or an invalid one (never retried).
//
// Events and what they do:
//   connect failure, peer closed, ack timeout → every unacked snapshot back to
//       the spool (memory) or to the spool's retry list (replayed); reconnect
//       after a backoff doubling from reconnect_min to reconnect_max, with jitter;
//   busy / failed ack → that snapshot back as above; pause sending for a
//       growing, jittered delay, keeping the connection;
//   invalid ack → counted, logged once with the daemon's message, forgotten;
//   committed ack → counted; a replayed record is acked in the spool;
//   backlog beyond half the memory limit, or no usable route → spool;
//   a flush's spill deadline, or stop → everything held in memory to the spool.
// Replay runs only while a route is usable and no new snapshot waits.
//
// Threads: the constructor starts the thread, the destructor stops and joins
// it; all other state is the thread's own. The FileLayer, if given, must
// outlive the Sender (tests pass a faulty one).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "core.h"
#include "file_layer.h"
#include "http_transport.h"
#include "spool.h"
#include "uds_transport.h"

namespace xray::sdk {

class Sender {
 public:
  explicit Sender(std::shared_ptr<Core> core, FileLayer* files = nullptr);
  // Spools what is still in memory, seals the spool and joins the thread.
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

 private:
  using Clock = std::chrono::steady_clock;

  // Delays doubling from `min` to `max`, each drawn from [d/2, d] (jitter).
  class Backoff {
   public:
    Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}
    Clock::duration next(std::mt19937_64& rng);
    void reset() { attempts_ = 0; }

   private:
    std::chrono::milliseconds min_, max_;
    int attempts_ = 0;
  };

  struct InFlight {
    std::string payload;
    std::optional<SpoolRecordRef> spool_ref;  // set when replayed from the spool
    Clock::time_point deadline;
  };

  void run();
  void loop();
  void shutdown();

  void take_from_queue();
  void maintain_connection(Clock::time_point now);
  void route_backlog(Clock::time_point now);
  void replay(Clock::time_point now);
  void wait_for_io(Clock::time_point now);
  void handle_acks(Clock::time_point now);
  void check_ack_timeouts(Clock::time_point now);
  void spill_memory();
  void finish_iteration();

  bool uds_usable(Clock::time_point now) const;
  bool http_usable(Clock::time_point now) const;
  bool window_has_room(std::size_t bytes) const;
  void send_uds(std::string payload, std::optional<SpoolRecordRef> ref, Clock::time_point now);
  void send_http(std::string payload, std::optional<SpoolRecordRef> ref);
  void on_committed(InFlight& f);
  void on_invalid(InFlight& f, std::string_view message);
  void give_back(InFlight&& f);
  void spool_or_drop(const std::string& payload);
  void break_connection(std::string_view why, Clock::time_point now);
  void pause_for_busy(std::string_view why, Clock::time_point now);
  Clock::time_point send_deadline(Clock::time_point now) const;

  std::shared_ptr<Core> core_;
  const ClientConfig& config_;
  PosixFileLayer posix_files_;
  FileLayer& files_;
  std::mt19937_64 rng_;

  std::unique_ptr<Spool> spool_;
  bool spool_appended_ = false;
  std::uint64_t to_resolve_ = 0;  // application snapshots finished this iteration
  bool spool_full_logged_ = false;

  std::deque<std::string> backlog_;              // taken from the queue, not yet sent
  std::map<std::uint64_t, InFlight> in_flight_;  // by sequence; deadlines grow with it
  std::deque<std::uint64_t> unwritten_;          // sequences not yet copied to the socket buffer
  std::uint64_t in_flight_bytes_ = 0;
  std::uint64_t next_sequence_ = 1;

  std::unique_ptr<UdsConnection> uds_;
  Clock::time_point uds_retry_at_{};
  Backoff uds_backoff_;
  bool uds_down_logged_ = false;

  std::unique_ptr<HttpClient> http_;
  Clock::time_point http_retry_at_{};
  Backoff http_backoff_;
  bool http_down_logged_ = false;

  Clock::time_point paused_until_{};
  Backoff busy_backoff_;
  bool busy_logged_ = false;

  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts after every member above exists
};

}  // namespace xray::sdk
