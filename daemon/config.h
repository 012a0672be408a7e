// Config: every setting of xrayd, as one value built from one option table.
//
// Each option has a name, a kind, a default and a help line. The same table
// yields the command-line flags (--http-listen), the XRAYD_* environment
// variables (XRAYD_HTTP_LISTEN), the keys of the config file (http_listen = …)
// and --print-config. Precedence: flags, then environment, then file, then the
// default (docs/configuration.md). Config is passed by value or const
// reference to the components that need it; there is no global (STYLE §11.5).
// Pure: no threads; load() reads the config file only.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/errors.h"
#include "daemon/log.h"

namespace xrayd {

using xray::InputError;

struct Config {
  // Where and how to listen.
  std::string http_listen = "127.0.0.1:4000";        // host:port; empty disables HTTP
  std::string socket_path = "/run/xray/xrayd.sock";  // empty disables the Unix socket
  std::uint32_t socket_mode = 0660;
  std::size_t io_threads = 1;
  std::size_t max_connections = 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_inflight_frames = 1024;  // per Unix-socket connection

  // Limits on one snapshot (DESIGN §3). Over a limit is an error naming it.
  std::size_t max_body_bytes = 8 << 20;
  std::size_t max_steps = 1000;
  std::size_t max_evaluations = 100'000;  // per step
  std::size_t max_json_depth = 64;
  std::size_t max_string_bytes = 1 << 20;

  // Memory (invariant 2).
  std::size_t memory_limit = 256 << 20;

  // PostgreSQL and the writers.
  std::string postgres = "postgresql:///xray";
  std::size_t writers = 2;
  std::size_t batch_max_bytes = 4 << 20;
  std::size_t batch_max_count = 500;
  std::chrono::milliseconds batch_max_delay{20};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{10'000};
  std::chrono::milliseconds shutdown_timeout{30'000};

  // The decision explorer: query API, live stream and dashboard (docs/api.md).
  std::string explorer_listen = "127.0.0.1:4001";  // host:port; empty disables the explorer
  std::size_t query_connections = 2;  // the query pool's PostgreSQL connections and threads
  std::string query_postgres;         // empty: the same server as `postgres`
  std::chrono::milliseconds query_timeout{5'000};  // statement_timeout of every query
  std::size_t query_max_rows = 500;                // the largest `limit` a request may ask for
  std::size_t explorer_max_streams = 32;           // live-stream (SSE) subscribers at once

  // Logging.
  LogLevel log_level = LogLevel::kInfo;
  std::string log_file;  // empty: stderr
};

// memory_limit must hold this many times max_body_bytes: while a snapshot is
// parsed, its body, its parsed document (4 to 7 times the JSON's size,
// measured in docs/operations.md) and its encoded rows are all held and
// accounted at once (invariant 2). With less, the largest snapshots could
// never be admitted and would be refused as busy forever.
inline constexpr std::size_t kBudgetBytesPerBodyByte = 8;

// Where each effective value came from, for --print-config.
enum class ValueSource { kDefault, kFile, kEnvironment, kFlag };

struct LoadedConfig {
  Config config;
  std::map<std::string, ValueSource> sources;  // option name → where its value came from
  std::string command;                         // "serve", "migrate" or "" (help/print only)
  bool help = false;
  bool print_config = false;
  bool version = false;
  std::string config_file;  // the file read, if any
};

// Parses argv, the environment (`envp`, null-terminated) and the config file
// named by --config / XRAYD_CONFIG (default /etc/xray/xrayd.conf when it
// exists). On a bad value returns an InputError naming the option and where it
// was set; unknown options are errors too.
boost::system::result<LoadedConfig, InputError> load_config(int argc, const char* const* argv,
                                                            const char* const* envp);

// The help text: usage, commands and every option with its default.
std::string help_text();

// `name = value` lines of the effective configuration, each with a comment
// giving its source; valid as a config file.
std::string print_config(const LoadedConfig& loaded);

// The reloadable subset (SIGHUP): copies limits, batch sizes and the log level
// from `fresh` into `live`; returns the names of non-reloadable options that
// differ (those need a restart).
std::vector<std::string> apply_reloadable(const Config& fresh, Config& live);

}  // namespace xrayd
