#include "daemon/migrate.h"

#include <memory>
#include <set>

#include <libpq-fe.h>

namespace xrayd {
namespace {

// Any fixed number works; it only has to be the same for every xrayd.
constexpr const char* kLockKey = "7355608";  // pg_advisory_lock key for migrations

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnCloser>;
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed_error(PGconn* conn) {
  std::string s = PQerrorMessage(conn);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs `sql` (possibly several statements); empty string on success, else the error.
std::string exec(PGconn* conn, const std::string& sql) {
  ResultPtr r(PQexec(conn, sql.c_str()));
  auto status = PQresultStatus(r.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  return trimmed_error(conn);
}

}  // namespace

boost::system::result<int, MigrateError> migrate(const std::string& conninfo, Logger& log,
                                                 const std::vector<Migration>& migrations) {
  ConnPtr conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return MigrateError{"cannot connect to PostgreSQL: " + trimmed_error(conn.get())};
  }
  // Session-level advisory lock: a second `xrayd migrate` waits here, then
  // finds nothing pending. Released when the connection closes.
  if (auto err = exec(conn.get(), std::string("SELECT pg_advisory_lock(") + kLockKey + ")");
      !err.empty()) {
    return MigrateError{"cannot take the migration lock: " + err};
  }
  if (auto err = exec(conn.get(),
                      "SET client_min_messages = warning;"
                      "CREATE TABLE IF NOT EXISTS xray_migrations ("
                      "  name text PRIMARY KEY,"
                      "  applied_at timestamptz NOT NULL DEFAULT now())");
      !err.empty()) {
    return MigrateError{"cannot create xray_migrations: " + err};
  }
  std::set<std::string> applied;
  {
    ResultPtr r(PQexec(conn.get(), "SELECT name FROM xray_migrations"));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
      return MigrateError{"cannot read xray_migrations: " + trimmed_error(conn.get())};
    }
    for (int i = 0; i < PQntuples(r.get()); ++i) applied.insert(PQgetvalue(r.get(), i, 0));
  }
  int count = 0;
  for (const Migration& m : migrations) {
    if (applied.count(m.name)) continue;
    log.info("migrate", "applying ", m.name);
    if (auto err = exec(conn.get(), "BEGIN"); !err.empty()) return MigrateError{err};
    if (auto err = exec(conn.get(), m.sql); !err.empty()) {
      [[maybe_unused]] auto rollback = exec(conn.get(), "ROLLBACK");
      return MigrateError{"migration " + m.name + " failed: " + err};
    }
    const char* values[1] = {m.name.c_str()};
    ResultPtr r(PQexecParams(conn.get(), "INSERT INTO xray_migrations (name) VALUES ($1)", 1,
                             nullptr, values, nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      std::string err = trimmed_error(conn.get());
      [[maybe_unused]] auto rollback = exec(conn.get(), "ROLLBACK");
      return MigrateError{"cannot record migration " + m.name + ": " + err};
    }
    if (auto err = exec(conn.get(), "COMMIT"); !err.empty()) {
      return MigrateError{"migration " + m.name + " did not commit: " + err};
    }
    ++count;
  }
  return count;
}

}  // namespace xrayd

namespace boost {
void throw_exception_from_error(const xrayd::MigrateError& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}
}  // namespace boost
