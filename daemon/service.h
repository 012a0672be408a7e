// Service: builds the daemon's components in order (metrics, budget, queue,
// writers, listeners), runs them until a signal, and stops them in reverse
// order: stop accepting, drain the queue within shutdown_timeout, ack, exit
// (invariant 8). Each component gets what it needs through its constructor.
#pragma once

#include "daemon/config.h"
#include "daemon/log.h"

namespace xrayd {

// Runs `xrayd serve` until SIGTERM/SIGINT. Returns the process exit code.
// Blocks the calling thread (main).
int run_service(const LoadedConfig& loaded, Logger& log);

}  // namespace xrayd
