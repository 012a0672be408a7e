// Service: builds the daemon's components in order (metrics, budget, queue,
// writers, ingest, listeners), runs them until a signal, and stops them in
// reverse order (invariant 8):
//
//   SIGTERM/SIGINT  stop accepting connections (those in the backlog get
//                   stopping sessions); let requests and frames in progress
//                   finish reading; refuse new snapshots, answering each
//                   "shutting down" until its client stops sending; drain the
//                   queue to PostgreSQL within shutdown_timeout; answer every
//                   snapshot in flight (committed, or failed when the deadline
//                   passed); close connections once quiet; exit 0. A second
//                   SIGTERM/SIGINT exits at once (1).
//   SIGHUP          reopen the log file; reload the reloadable options after
//                   validating the whole new configuration.
//   writer failure  a writer thread ended by an exception (a bug): drain as on
//                   SIGTERM with the remaining writers, then exit 1 so that the
//                   supervisor restarts the daemon.
//
// Each component gets what it needs through its constructor; nothing is
// global, so tests could run two services in one process.
#pragma once

#include <functional>

#include "daemon/config.h"
#include "daemon/log.h"

namespace xrayd {

// Re-reads the configuration from the same flags, environment and file (SIGHUP).
using ConfigReloader = std::function<boost::system::result<LoadedConfig, InputError>()>;

// Runs `xrayd serve` until SIGTERM/SIGINT or a writer failure. Returns the process
// exit code: 0 after a clean drain, 1 on a startup error or a writer failure.
// Blocks the calling thread (main), which handles signals and shutdown.
int run_service(const LoadedConfig& loaded, Logger& log, const ConfigReloader& reload);

}  // namespace xrayd
