// Schema migrations: `xrayd migrate`.
//
// The migrations are schema/NNN_name.sql, embedded into the binary at build
// time (cmake/embed_migrations.cmake) so a deployed xrayd needs no other
// files. migrate() applies the pending ones in name order, each in its own
// transaction together with its row in `xray_migrations`. A session-level
// advisory lock serializes concurrent migrate runs, so running it twice, or
// from two processes at once, is safe. Blocking: call it from main or a test,
// never from an io thread.
#pragma once

#include <string>
#include <vector>

#include "daemon/errors.h"
#include "daemon/log.h"

namespace xrayd {

struct Migration {
  std::string name;  // "001_initial", the file name without .sql
  std::string sql;
};

// All migrations built into this binary, in order.
const std::vector<Migration>& embedded_migrations();

// Applies pending `migrations` (default: the embedded ones) to the database at
// `conninfo`. Returns how many were applied; on failure an error whose
// message() includes PostgreSQL's message, and nothing of the failed
// migration is left behind.
struct MigrateError {
  std::string message;
};
boost::system::result<int, MigrateError> migrate(
    const std::string& conninfo, Logger& log,
    const std::vector<Migration>& migrations = embedded_migrations());

}  // namespace xrayd

namespace boost {
[[noreturn]] void throw_exception_from_error(const xrayd::MigrateError& e,
                                             const boost::source_location& loc);
}  // namespace boost
