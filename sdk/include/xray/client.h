// xray::Client: the application's connection to xrayd, and the owner of the
// background sender thread and the local spool.
//
// A Client starts one background thread. Executions created by
// start_execution() are recorded in memory on the caller's thread; when one
// completes or fails, its snapshot is serialised and handed to the sender
// through a lock-free queue. The sender writes snapshots to xrayd over the
// Unix socket (many frames in flight, one ack each) or, when the socket is
// unreachable, over HTTP if an endpoint is configured. A snapshot leaves the
// SDK's care only when xrayd acknowledges it as committed. When the daemon is
// unreachable, busy or silent, snapshots go to the spool directory and are
// replayed later, oldest first (docs/spool.md).
//
// Invariant 6 (DESIGN.md): nothing on the application's threads blocks, does
// I/O or throws because of the daemon. Memory held for unsent snapshots is
// bounded by `memory_limit_bytes`, the spool by `spool_max_bytes`; a snapshot
// that fits in neither is dropped and counted in Counters::dropped.
//
// Threads: every method may be called from any thread. The log callback is
// only ever called on the sender thread, never on an application thread.
// Lifetime: the Client should outlive its Executions; an Execution finished
// after its Client is gone is dropped and counted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "xray/execution.h"
#include "xray/json.h"

namespace xray {

namespace sdk {
class Core;
class Sender;
}  // namespace sdk

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError };
const char* to_string(LogLevel level);

// Receives the SDK's log lines (one event each, no trailing newline). Called
// on the sender thread only; it should return quickly.
using LogCallback = std::function<void(LogLevel level, std::string_view message)>;

struct ClientConfig {
  // Where xrayd listens. An empty socket_path disables the Unix socket.
  std::string socket_path = "/run/xray/xrayd.sock";
  // Optional HTTP fallback, "http://host:port" or "host:port" (POST /v1/executions),
  // used while the Unix socket cannot be reached. Empty: none.
  std::string http_endpoint;

  // Written into every snapshot. `app` is the tenant and part of the idempotency key.
  std::string app = "default";
  std::string environment;  // empty: omitted

  // Spool for snapshots the daemon could not take. Empty: no spool (such
  // snapshots are dropped and counted). Created if missing. Several processes
  // may share one directory.
  std::string spool_dir;
  std::uint64_t spool_max_bytes = 256ull << 20;    // bound on the directory's segment files
  std::uint64_t spool_segment_bytes = 4ull << 20;  // a segment is sealed at this size
  bool spool_sync = true;  // fdatasync after each batch of appends (survives power loss)

  // Bytes of serialised snapshots held in memory (queued or awaiting an ack).
  std::uint64_t memory_limit_bytes = 32ull << 20;
  // Unacknowledged snapshot frames on the Unix socket.
  std::uint32_t max_inflight = 256;
  // A frame or HTTP request not acknowledged within this time is spooled and
  // the connection is considered broken.
  std::chrono::milliseconds ack_timeout{5000};
  // Reconnect delays: doubling from min to max, with jitter.
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{5000};
  // How long the destructor may take to send or spool what is pending.
  std::chrono::milliseconds shutdown_timeout{5000};

  LogCallback log;  // optional
};

// Monotonic counters since the Client started (except the two gauges at the end).
struct Counters {
  std::uint64_t recorded = 0;       // executions handed over by complete(), fail() or abandonment
  std::uint64_t sent = 0;           // snapshot transmissions (frames/requests), re-sends included
  std::uint64_t committed = 0;      // acknowledged as committed (from memory or from the spool)
  std::uint64_t spooled = 0;        // snapshots written to the spool
  std::uint64_t replayed = 0;       // spool records acknowledged as committed (part of committed)
  std::uint64_t dropped = 0;        // snapshots lost: memory and spool full, no spool, disk error
  std::uint64_t invalid = 0;        // rejected by the daemon as invalid; never retried
  std::uint64_t spool_corrupt = 0;  // torn or corrupt spool records skipped on replay
  std::uint64_t memory_bytes = 0;   // gauge: serialised bytes held in memory now
  std::uint64_t spool_bytes = 0;    // gauge: size of the spool directory as last seen
};

class Client {
 public:
  // Starts the sender thread. Never fails: an unusable spool directory or an
  // absent daemon is logged and handled like a full spool or a down daemon.
  // The constructor's only I/O is one read of a random seed (std::random_device)
  // per process; the spool is opened on the sender thread.
  explicit Client(ClientConfig config);
  // flush(config.shutdown_timeout), then stops the sender; snapshots still in
  // memory at that point are spooled. Returns within the timeout whatever
  // the daemon does, unless the disk itself hangs.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Starts recording one execution of `pipeline` (id: a new UUIDv7, started_at:
  // now). `metadata` should be an object or null. Recording only touches memory.
  Execution start_execution(std::string_view pipeline, Json metadata = nullptr);

  // Blocks until every snapshot handed over before the call has been
  // committed, spooled, or dropped, or until `timeout` has passed. Near the
  // deadline, whatever is still waiting for the daemon is spooled. Returns true
  // if nothing is left in memory. May be called from any thread.
  bool flush(std::chrono::milliseconds timeout);

  // A consistent-enough snapshot of the counters (each read atomically).
  Counters counters() const;

  const ClientConfig& config() const;

 private:
  std::shared_ptr<sdk::Core> core_;
  std::unique_ptr<sdk::Sender> sender_;
};

}  // namespace xray
