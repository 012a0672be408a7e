// xrayd: argv → serve | migrate | --print-config; exit code. Nothing else.
#include <iostream>

#include "daemon/config.h"
#include "daemon/migrate.h"
#include "daemon/service.h"

extern char** environ;

int main(int argc, char** argv) {
  auto loaded = xrayd::load_config(argc, argv, environ);
  if (!loaded) {
    std::cerr << "xrayd: " << loaded.error().message << "\n(see xrayd --help)\n";
    return 2;
  }
  if (loaded->help) {
    std::cout << xrayd::help_text();
    return 0;
  }
  if (loaded->version) {
    std::cout << "xrayd 0.1.0\n";
    return 0;
  }
  if (loaded->print_config) {
    std::cout << xrayd::print_config(*loaded);
    return 0;
  }
  xrayd::Logger log(loaded->config.log_level, loaded->config.log_file);
  try {
    if (loaded->command == "migrate") {
      auto applied = xrayd::migrate(loaded->config.postgres, log);
      if (!applied) {
        log.error("migrate", applied.error().message);
        return 1;
      }
      log.info("migrate", "applied ", *applied, " migration(s); schema is up to date");
      return 0;
    }
    if (loaded->command == "serve") {
      return xrayd::run_service(*loaded, log,
                                [argc, argv] { return xrayd::load_config(argc, argv, environ); });
    }
  } catch (const std::exception& e) {
    // Startup and library exceptions stop here (STYLE §4).
    log.error("main", "fatal: ", e.what());
    return 1;
  }
  std::cerr << "xrayd: "
            << (loaded->command.empty() ? "no command given"
                                        : "unknown command '" + loaded->command + "'")
            << "; expected serve or migrate (see xrayd --help)\n";
  return 2;
}
