// SessionContext: what every client session needs from the rest of the
// daemon, handed to the listener by service.cc. All references outlive every
// session (the service stops the io_context before destroying them).
#pragma once

#include <functional>

#include "daemon/ingest.h"
#include "daemon/live_config.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/session_registry.h"

namespace xrayd {

struct SessionContext {
  const LiveConfig& config;
  Ingest& ingest;
  Budget& budget;
  Metrics& metrics;
  Logger& log;
  SessionRegistry& registry;
  std::function<ScrapeGauges()> gauges;  // any io thread; must not block
  std::function<bool()> ready;           // any io thread; must not block
};

}  // namespace xrayd
