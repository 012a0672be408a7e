#include "tests/support/pg_server.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <memory>
#include <pwd.h>
#include <stdexcept>
#include <unistd.h>

#include <sys/stat.h>

#include "daemon/log.h"
#include "daemon/migrate.h"

namespace xray::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::string run_capture(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) output.append(buf.data(), n);
  *status = ::pclose(pipe);
  return output;
}

}  // namespace

PgServer::~PgServer() {
  if (running_) {
    std::system(as_postgres(std::string(kBin) + "/pg_ctl -D " + dir_ +
                            "/data -m immediate stop >/dev/null 2>&1")
                    .c_str());
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

PgServer& PgServer::shared() {
  // Started on first use, stopped by static destruction at exit.
  static PgServer server;
  static const bool kStarted = (server.start(), true);
  (void)kStarted;
  return server;
}

std::string PgServer::as_postgres(const std::string& command) const {
  if (::geteuid() != 0) return command;
  return "runuser -u postgres -- sh -c " + shell_quote(command);
}

void PgServer::run_or_die(const std::string& command) const {
  int status = std::system(command.c_str());
  if (status != 0) {
    std::cerr << "PgServer: command failed (" << status << "): " << command << std::endl;
    std::abort();
  }
}

void PgServer::start() {
  char templ[] = "/tmp/xray-pg-XXXXXX";
  if (::mkdtemp(templ) == nullptr) {
    std::cerr << "PgServer: mkdtemp failed" << std::endl;
    std::abort();
  }
  dir_ = templ;
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      std::cerr << "PgServer: running as root needs the postgres user" << std::endl;
      std::abort();
    }
  }
  ::chmod(dir_.c_str(), 0755);
  run_or_die(as_postgres(std::string(kBin) + "/initdb -D " + dir_ +
                         "/data -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync "
                         ">" +
                         dir_ + "/initdb.log 2>&1"));
  start_again();
  start_guard();
}

void PgServer::start_guard() const {
  // Everything the child needs is prepared before fork(): after it, the child
  // of a possibly multi-threaded process may only make async-signal-safe
  // calls until it execs.
  const std::string cleanup =
      as_postgres(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -m immediate stop") +
      "; rm -rf " + shell_quote(dir_);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child != 0) return;  // the parent, or fork failed (no guard then)
  // Not holding the test's stdout/stderr open, so ctest does not wait for us.
  int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
  }
  // A new session: a signal sent to the test's process group does not end the guard.
  ::setsid();
  while (::getppid() == parent) ::sleep(1);
  // The test binary is gone. After a normal exit its destructor already
  // stopped the server and removed the folder, and this does nothing.
  ::execl("/bin/sh", "sh", "-c", cleanup.c_str(), static_cast<char*>(nullptr));
  ::_exit(127);
}

void PgServer::start_again() {
  // Unix socket only; durability settings off because a test server's data is
  // thrown away. fsync=off survives an immediate stop (it is not an OS
  // crash), synchronous_commit=off does not: xrayd's writers set it back on
  // for their sessions (invariant 1), which the outage tests rely on.
  run_or_die(as_postgres(std::string(kBin) + "/pg_ctl -D " + dir_ + "/data -l " + dir_ +
                         "/server.log -w -t 60 -o " +
                         shell_quote("-k " + dir_ +
                                     " -c listen_addresses= -c fsync=off "
                                     "-c synchronous_commit=off -c full_page_writes=off "
                                     "-c max_connections=200") +
                         " start >/dev/null"));
  running_ = true;
}

void PgServer::stop_immediate() {
  run_or_die(as_postgres(std::string(kBin) + "/pg_ctl -D " + dir_ +
                         "/data -m immediate -w stop >/dev/null"));
  running_ = false;
}

std::string PgServer::conninfo(const std::string& dbname) const {
  return "host=" + dir_ + " user=postgres dbname=" + dbname;
}

std::string PgServer::query(const std::string& sql) const {
  int status = 0;
  std::string out = run_capture("psql -X -q -A -t -v ON_ERROR_STOP=1 " + shell_quote(conninfo()) +
                                    " -c " + shell_quote(sql) + " 2>&1",
                                &status);
  if (status != 0) throw std::runtime_error("psql failed: " + out + " for: " + sql);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

long PgServer::count(const std::string& sql) const { return std::stol(query(sql)); }

void PgServer::reset_database() {
  run_or_die("psql -X -q " + shell_quote(conninfo("postgres")) +
             " -c 'DROP DATABASE IF EXISTS xray WITH (FORCE)' -c 'CREATE DATABASE xray'"
             " >/dev/null");
  xrayd::Logger log(xrayd::LogLevel::kWarn);
  auto applied = xrayd::migrate(conninfo(), log);
  if (!applied) {
    std::cerr << "PgServer: migrate failed: " << applied.error().message << std::endl;
    std::abort();
  }
}

}  // namespace xray::testing
