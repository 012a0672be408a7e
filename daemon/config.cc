#include "daemon/config.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unistd.h>

#include <boost/program_options.hpp>

namespace xrayd {
namespace {

namespace po = boost::program_options;

enum class Kind { kString, kCount, kBytes, kMillis, kMode, kLogLevel };

// One row of the option table. `get`/`set` convert between text and the field.
struct Option {
  const char* name;  // config-file key; flag is --name-with-dashes, env is XRAYD_NAME
  Kind kind;
  const char* help;
  bool reloadable;
  std::function<std::string(const Config&)> get;
  std::function<bool(Config&, const std::string&)> set;  // false: bad value
};

bool parse_uint(const std::string& text, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

// "256MiB", "64KiB", "1GiB", "4096" → bytes.
bool parse_bytes(const std::string& text, std::uint64_t& out) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::uint64_t n = 0;
  if (!parse_uint(text.substr(0, digits), n)) return false;
  std::string unit = text.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  std::uint64_t mult = 1;
  if (unit.empty() || unit == "B") {
    mult = 1;
  } else if (unit == "KiB" || unit == "K" || unit == "KB") {
    mult = 1ULL << 10;
  } else if (unit == "MiB" || unit == "M" || unit == "MB") {
    mult = 1ULL << 20;
  } else if (unit == "GiB" || unit == "G" || unit == "GB") {
    mult = 1ULL << 30;
  } else {
    return false;
  }
  out = n * mult;
  return true;
}

std::string format_bytes(std::size_t n) {
  if (n != 0 && n % (1ULL << 30) == 0) return std::to_string(n >> 30) + "GiB";
  if (n != 0 && n % (1ULL << 20) == 0) return std::to_string(n >> 20) + "MiB";
  if (n != 0 && n % (1ULL << 10) == 0) return std::to_string(n >> 10) + "KiB";
  return std::to_string(n);
}

// "250ms", "30s", "2m", "1500" (milliseconds) → milliseconds.
bool parse_millis(const std::string& text, std::chrono::milliseconds& out) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::uint64_t n = 0;
  if (!parse_uint(text.substr(0, digits), n)) return false;
  std::string unit = text.substr(digits);
  if (unit.empty() || unit == "ms") {
    out = std::chrono::milliseconds(n);
  } else if (unit == "s") {
    out = std::chrono::seconds(n);
  } else if (unit == "m" || unit == "min") {
    out = std::chrono::minutes(n);
  } else {
    return false;
  }
  return true;
}

std::string format_millis(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms != 0 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

template <class T>
Option string_option(const char* name, T Config::*field, const char* help, bool reloadable) {
  return {name,
          Kind::kString,
          help,
          reloadable,
          [field](const Config& c) { return std::string(c.*field); },
          [field](Config& c, const std::string& v) {
            c.*field = v;
            return true;
          }};
}

// A positive count (threads, rows, steps…). `allow_zero` for "0 = unlimited/off".
Option count_option(const char* name, std::size_t Config::*field, const char* help, bool reloadable,
                    bool allow_zero = false) {
  return {name,
          Kind::kCount,
          help,
          reloadable,
          [field](const Config& c) { return std::to_string(c.*field); },
          [field, allow_zero](Config& c, const std::string& v) {
            std::uint64_t n = 0;
            if (!parse_uint(v, n) || (n == 0 && !allow_zero)) return false;
            c.*field = n;
            return true;
          }};
}

Option bytes_option(const char* name, std::size_t Config::*field, const char* help,
                    bool reloadable) {
  return {name,
          Kind::kBytes,
          help,
          reloadable,
          [field](const Config& c) { return format_bytes(c.*field); },
          [field](Config& c, const std::string& v) {
            std::uint64_t n = 0;
            if (!parse_bytes(v, n) || n == 0) return false;
            c.*field = n;
            return true;
          }};
}

Option millis_option(const char* name, std::chrono::milliseconds Config::*field, const char* help,
                     bool reloadable) {
  return {name,
          Kind::kMillis,
          help,
          reloadable,
          [field](const Config& c) { return format_millis(c.*field); },
          [field](Config& c, const std::string& v) { return parse_millis(v, c.*field); }};
}

const std::vector<Option>& option_table() {
  static const std::vector<Option> kOptions = {
      string_option("postgres", &Config::postgres,
                    "PostgreSQL connection string (libpq keyword/value or URI)", false),
      string_option("http_listen", &Config::http_listen,
                    "HTTP listen address host:port; empty disables HTTP", false),
      string_option("socket_path", &Config::socket_path,
                    "Unix domain socket path; empty disables the socket", false),
      {"socket_mode", Kind::kMode, "permissions of the Unix socket file (octal)", false,
       [](const Config& c) {
         std::ostringstream s;
         s << '0' << std::oct << c.socket_mode;
         return s.str();
       },
       [](Config& c, const std::string& v) {
         if (v.empty() || v.find_first_not_of("01234567") != std::string::npos) return false;
         c.socket_mode = static_cast<std::uint32_t>(std::strtoul(v.c_str(), nullptr, 8));
         return c.socket_mode <= 0777;
       }},
      count_option("io_threads", &Config::io_threads,
                   "threads that run network I/O, parsing and encoding", false),
      count_option("writers", &Config::writers,
                   "writer threads, each with its own PostgreSQL connection", false),
      bytes_option("batch_max_bytes", &Config::batch_max_bytes,
                   "a batch closes when its encoded rows reach this size", true),
      count_option("batch_max_count", &Config::batch_max_count,
                   "a batch closes when it holds this many snapshots", true),
      millis_option("batch_max_delay", &Config::batch_max_delay,
                    "a batch closes this long after its first snapshot arrived", true),
      bytes_option("memory_limit", &Config::memory_limit,
                   "bytes held for snapshots from first byte read to commit (invariant 2)", true),
      bytes_option("max_body_bytes", &Config::max_body_bytes,
                   "largest HTTP request body or Unix-socket frame", true),
      count_option("max_steps", &Config::max_steps, "most steps in one snapshot", true),
      count_option("max_evaluations", &Config::max_evaluations, "most evaluations in one step",
                   true),
      count_option("max_json_depth", &Config::max_json_depth, "deepest JSON nesting", true),
      bytes_option("max_string_bytes", &Config::max_string_bytes,
                   "longest JSON string (bytes of UTF-8)", true),
      count_option("max_connections", &Config::max_connections,
                   "open client connections (HTTP + Unix socket) before new ones are refused",
                   true),
      count_option("max_inflight_frames", &Config::max_inflight_frames,
                   "unacknowledged frames per Unix-socket connection before reads pause", true),
      millis_option("header_timeout", &Config::header_timeout,
                    "deadline to receive an HTTP request's headers", true),
      millis_option("body_timeout", &Config::body_timeout,
                    "deadline to receive a request body or frame payload", true),
      millis_option("idle_timeout", &Config::idle_timeout,
                    "close a connection with no request or frame in progress after this long",
                    true),
      millis_option("reconnect_min", &Config::reconnect_min,
                    "first PostgreSQL reconnect delay (doubles, with jitter)", false),
      millis_option("reconnect_max", &Config::reconnect_max, "longest PostgreSQL reconnect delay",
                    false),
      millis_option("shutdown_timeout", &Config::shutdown_timeout,
                    "on SIGTERM, time allowed to drain the queue to PostgreSQL", true),
      string_option("explorer_listen", &Config::explorer_listen,
                    "decision explorer (query API, live stream, dashboard) host:port; empty "
                    "disables it",
                    false),
      count_option("query_connections", &Config::query_connections,
                   "explorer query threads, each with its own PostgreSQL connection", false),
      string_option("query_postgres", &Config::query_postgres,
                    "PostgreSQL connection string for explorer queries (a replica, say); empty: "
                    "the postgres option",
                    false),
      millis_option("query_timeout", &Config::query_timeout,
                    "statement_timeout of every explorer query", false),
      count_option("query_max_rows", &Config::query_max_rows,
                   "largest page (limit) an explorer request may ask for", true),
      count_option("explorer_max_streams", &Config::explorer_max_streams,
                   "live-stream (SSE) subscribers at once; more are answered 503", true),
      {"log_level", Kind::kLogLevel, "debug, info, warn or error", true,
       [](const Config& c) { return std::string(to_string(c.log_level)); },
       [](Config& c, const std::string& v) { return parse_log_level(v, c.log_level); }},
      string_option("log_file", &Config::log_file,
                    "append logs to this file (reopened on SIGHUP); empty: stderr", false),
  };
  return kOptions;
}

std::string flag_name(const char* name) {
  std::string s = name;
  for (char& c : s) {
    if (c == '_') c = '-';
  }
  return s;
}

std::string env_name(const char* name) {
  std::string s = "XRAYD_";
  for (const char* p = name; *p != 0; ++p) s.push_back(static_cast<char>(std::toupper(*p)));
  return s;
}

const char* source_name(ValueSource s) {
  switch (s) {
    case ValueSource::kDefault:
      return "default";
    case ValueSource::kFile:
      return "config file";
    case ValueSource::kEnvironment:
      return "environment";
    case ValueSource::kFlag:
      return "command line";
  }
  return "default";
}

std::string where(ValueSource s, const char* name) {
  switch (s) {
    case ValueSource::kFlag:
      return "--" + flag_name(name);
    case ValueSource::kEnvironment:
      return env_name(name);
    default:
      return std::string(name) + " (" + source_name(s) + ")";
  }
}

InputError config_error(std::string message) {
  return {xray::Errc::kInvalidSnapshot, "", std::move(message)};
}

}  // namespace

boost::system::result<LoadedConfig, InputError> load_config(int argc, const char* const* argv,
                                                            const char* const* envp) {
  LoadedConfig loaded;
  po::options_description flags;
  po::options_description file_keys;
  flags.add_options()("help,h", "")("version", "")("print-config", "")(
      "config,c", po::value<std::string>(), "")("command", po::value<std::string>(), "");
  for (const Option& o : option_table()) {
    flags.add_options()(flag_name(o.name).c_str(), po::value<std::string>(), o.help);
    file_keys.add_options()(o.name, po::value<std::string>(), o.help);
  }
  po::positional_options_description positional;
  positional.add("command", 1);

  po::variables_map from_flags;
  po::variables_map from_env;
  po::variables_map from_file;
  // "--explorer-listen=" means an empty value (it disables the explorer), but
  // program_options refuses "=" followed by nothing; pass it as "--name" "".
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 3 && arg.rfind("--", 0) == 0 && arg.back() == '=' &&
        arg.find('=') == arg.size() - 1) {
      args.push_back(arg.substr(0, arg.size() - 1));
      args.emplace_back();
    } else {
      args.push_back(std::move(arg));
    }
  }
  try {
    po::store(po::command_line_parser(args).options(flags).positional(positional).run(),
              from_flags);
  } catch (const po::error& e) {
    return config_error(std::string("command line: ") + e.what());
  }
  loaded.help = from_flags.count("help") > 0;
  loaded.version = from_flags.count("version") > 0;
  loaded.print_config = from_flags.count("print-config") > 0;
  if (from_flags.count("command")) loaded.command = from_flags["command"].as<std::string>();

  // Environment: XRAYD_<OPTION>; anything else starting XRAYD_ is an error so
  // a typo in a unit file does not pass silently.
  std::map<std::string, std::string> env_values;
  std::string env_config_file;
  for (const char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.rfind("XRAYD_", 0) != 0) continue;
    auto eq = entry.find('=');
    std::string key = entry.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    if (key == "XRAYD_CONFIG") {
      env_config_file = value;
      continue;
    }
    bool known = false;
    for (const Option& o : option_table()) {
      if (env_name(o.name) == key) {
        env_values[o.name] = value;
        known = true;
      }
    }
    if (!known) return config_error("unknown environment variable " + key);
  }

  std::string file =
      from_flags.count("config") ? from_flags["config"].as<std::string>() : env_config_file;
  bool file_required = !file.empty();
  if (file.empty() && std::filesystem::exists("/etc/xray/xrayd.conf")) {
    file = "/etc/xray/xrayd.conf";
  }
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) {
      if (file_required) return config_error("cannot read config file " + file);
    } else {
      try {
        po::store(po::parse_config_file(in, file_keys, false), from_file);
      } catch (const po::error& e) {
        return config_error("config file " + file + ": " + e.what());
      }
      loaded.config_file = file;
    }
  }

  for (const Option& o : option_table()) {
    std::string value;
    ValueSource source = ValueSource::kDefault;
    if (from_flags.count(flag_name(o.name))) {
      value = from_flags[flag_name(o.name)].as<std::string>();
      source = ValueSource::kFlag;
    } else if (env_values.count(o.name)) {
      value = env_values[o.name];
      source = ValueSource::kEnvironment;
    } else if (from_file.count(o.name)) {
      value = from_file[o.name].as<std::string>();
      source = ValueSource::kFile;
    }
    loaded.sources[o.name] = source;
    if (source == ValueSource::kDefault) continue;
    if (!o.set(loaded.config, value)) {
      return config_error("invalid value '" + value + "' for " + where(source, o.name) + ": " +
                          o.help);
    }
  }
  const Config& c = loaded.config;
  if (c.reconnect_min > c.reconnect_max) {
    return config_error("reconnect_min must not exceed reconnect_max");
  }
  if (c.max_body_bytes > c.memory_limit / kBudgetBytesPerBodyByte) {
    return config_error("max_body_bytes (" + format_bytes(c.max_body_bytes) +
                        ") must not exceed memory_limit / " +
                        std::to_string(kBudgetBytesPerBodyByte) + " (" +
                        format_bytes(c.memory_limit / kBudgetBytesPerBodyByte) +
                        "): parsing a snapshot holds about that many times its size");
  }
  if (c.query_timeout.count() <= 0) {
    return config_error("query_timeout must be positive: it bounds every explorer query");
  }
  if (c.http_listen.empty() && c.socket_path.empty()) {
    return config_error("both http_listen and socket_path are empty: nothing to listen on");
  }
  return loaded;
}

std::string help_text() {
  std::ostringstream out;
  out << "xrayd: decision observability ingestion daemon\n\n"
         "Usage:\n"
         "  xrayd serve   [options]   run the daemon (HTTP + Unix socket → PostgreSQL)\n"
         "  xrayd migrate [options]   apply pending schema migrations and exit\n"
         "  xrayd --print-config      show the effective configuration and exit\n"
         "  xrayd --help | --version\n\n"
         "Every option can be given as a flag, as an XRAYD_* environment variable or\n"
         "as `name = value` in the config file; flags win over the environment, which\n"
         "wins over the file. Sizes take KiB/MiB/GiB, durations ms/s/m.\n\n"
         "General:\n"
         "  -c, --config FILE    config file (env XRAYD_CONFIG; default /etc/xray/xrayd.conf\n"
         "                       when it exists)\n"
         "  --print-config       print the effective configuration with sources\n\n"
         "Options (default in brackets):\n";
  Config defaults;
  for (const Option& o : option_table()) {
    std::string flag = "  --" + flag_name(o.name) + " ARG";
    out << flag;
    for (std::size_t i = flag.size(); i < 30; ++i) out << ' ';
    out << ' ' << o.help << " [" << o.get(defaults) << "]" << (o.reloadable ? " (reloadable)" : "")
        << "\n";
  }
  out << "\nSignals: SIGTERM/SIGINT drain and exit (a second one exits at once);\n"
         "SIGHUP reopens the log file and reloads the options marked reloadable.\n";
  return out.str();
}

std::string print_config(const LoadedConfig& loaded) {
  std::ostringstream out;
  out << "# effective xrayd configuration";
  if (!loaded.config_file.empty()) out << " (config file: " << loaded.config_file << ")";
  out << "\n";
  for (const Option& o : option_table()) {
    auto it = loaded.sources.find(o.name);
    ValueSource s = it == loaded.sources.end() ? ValueSource::kDefault : it->second;
    out << o.name << " = " << o.get(loaded.config) << "    # " << source_name(s) << "\n";
  }
  return out.str();
}

std::vector<std::string> apply_reloadable(const Config& fresh, Config& live) {
  std::vector<std::string> needs_restart;
  for (const Option& o : option_table()) {
    std::string now = o.get(fresh);
    if (now == o.get(live)) continue;
    if (o.reloadable) {
      // Belief: get() output round-trips through set().
      [[maybe_unused]] bool ok = o.set(live, now);
    } else {
      needs_restart.push_back(o.name);
    }
  }
  return needs_restart;
}

}  // namespace xrayd
