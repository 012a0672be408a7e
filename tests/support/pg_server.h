// PgServer: a private PostgreSQL 15 server for one test binary.
//
// start() runs initdb into a fresh temporary folder and starts the server on
// a Unix socket inside that folder only (no TCP). When the tests run as root,
// initdb and the server run as the `postgres` user, as PostgreSQL requires.
// Tests get a clean database with reset_database(), which drops and recreates
// `xray` and applies the migrations, so each test starts from a clean schema.
// stop_immediate()/start_again() are for outage tests. The destructor stops
// the server and removes the folder. A test binary that dies without running
// its destructors (SIGKILL from a ctest timeout, an abort) must not leave the
// server behind: start() forks a small guard process that waits for the test
// binary to end and then stops the server and removes the folder. One thread
// (the test's) calls it.
#pragma once

#include <string>

namespace xray::testing {

class PgServer {
 public:
  PgServer() = default;
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Creates and starts the server; aborts the test binary with a message if it cannot.
  void start();
  // The server of this test binary, started on first use.
  static PgServer& shared();

  // libpq connection string for `dbname` on this server.
  std::string conninfo(const std::string& dbname = "xray") const;
  // Drops and recreates database `xray`, then applies every migration.
  void reset_database();
  // Runs `sql` through psql against `xray`; returns psql's unaligned, tuples-only output.
  std::string query(const std::string& sql) const;
  // Convenience: the single number a COUNT(*) query returns.
  long count(const std::string& sql) const;

  // pg_ctl stop -m immediate (an abrupt crash of the server), and start it again.
  void stop_immediate();
  void start_again();

  const std::string& socket_dir() const { return dir_; }

 private:
  std::string as_postgres(const std::string& command) const;
  void run_or_die(const std::string& command) const;
  // Forks the guard described above.
  void start_guard() const;

  std::string dir_;
  bool running_ = false;
};

}  // namespace xray::testing
