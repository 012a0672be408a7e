// Logger: one line per event on stderr (or a file), with a timestamp, a level
// and the component that speaks ("writer[1]", "http[12]").
//
// Line format:  2026-11-22T10:00:00.123Z INFO  writer[1] connected to PostgreSQL
//
// One Logger is built by service.cc and passed by reference to every
// component (no global, STYLE.md §11.5). Any thread may call it: each line is
// written with a single write(2) so lines from threads never interleave.
// reopen() is for SIGHUP after log rotation; set_level() for reloads.
#pragma once

#include <atomic>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>

namespace xrayd {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Parses "debug", "info", "warn", "error"; false if unknown.
bool parse_log_level(std::string_view text, LogLevel& out);
const char* to_string(LogLevel level);

class Logger {
 public:
  // Logs to stderr when `path` is empty, else appends to `path`.
  explicit Logger(LogLevel level = LogLevel::kInfo, std::string path = {});
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void set_level(LogLevel level) { level_.store(level, std::memory_order_relaxed); }
  LogLevel level() const { return level_.load(std::memory_order_relaxed); }
  bool enabled(LogLevel level) const { return level >= this->level(); }

  // Reopens the log file (no-op for stderr). Returns false if it cannot be opened;
  // logging then continues on the old descriptor.
  bool reopen();

  template <class... Parts>
  void debug(std::string_view component, const Parts&... parts) {
    log(LogLevel::kDebug, component, parts...);
  }
  template <class... Parts>
  void info(std::string_view component, const Parts&... parts) {
    log(LogLevel::kInfo, component, parts...);
  }
  template <class... Parts>
  void warn(std::string_view component, const Parts&... parts) {
    log(LogLevel::kWarn, component, parts...);
  }
  template <class... Parts>
  void error(std::string_view component, const Parts&... parts) {
    log(LogLevel::kError, component, parts...);
  }

  template <class... Parts>
  void log(LogLevel level, std::string_view component, const Parts&... parts) {
    if (!enabled(level)) return;
    std::ostringstream message;
    (message << ... << parts);
    write_line(level, component, message.str());
  }

 private:
  void write_line(LogLevel level, std::string_view component, std::string_view message);

  std::atomic<LogLevel> level_;
  std::string path_;
  std::mutex fd_mu_;  // guards fd_ swaps on reopen(); held only for the write(2)
  int fd_ = 2;
};

}  // namespace xrayd
