#include "daemon/service.h"

namespace xrayd {

int run_service(const LoadedConfig&, Logger& log) {
  log.error("service", "serve is not built yet");
  return 1;
}

}  // namespace xrayd
