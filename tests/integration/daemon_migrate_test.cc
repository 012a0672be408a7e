// `xrayd migrate` against a real PostgreSQL: idempotent, safe to run from two
// processes at once (advisory lock), and a failed migration leaves nothing.
#include <cstdlib>
#include <future>
#include <string>

#include <gtest/gtest.h>

#include "daemon/log.h"
#include "daemon/migrate.h"
#include "tests/support/pg_server.h"

namespace xray::testing {
namespace {

class Migrate : public ::testing::Test {
 protected:
  void SetUp() override {
    // An empty database: no tables, no migrations table.
    (void)pg();  // starts the private server on first use
    std::system(("psql -X -q '" + pg().conninfo("postgres") +
                 "' -c 'DROP DATABASE IF EXISTS xray WITH (FORCE)' -c 'CREATE DATABASE xray'"
                 " >/dev/null")
                    .c_str());
  }
  static PgServer& pg() { return PgServer::shared(); }

  int run_xrayd_migrate() {
    std::string cmd = std::string(XRAYD_BINARY) + " migrate --postgres='" + pg().conninfo() +
                      "' --log-level=warn";
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(Migrate, AppliesEveryMigrationOnceWhenRunTwice) {
  EXPECT_EQ(run_xrayd_migrate(), 0);
  long applied = pg().count("SELECT count(*) FROM xray_migrations");
  EXPECT_EQ(applied, static_cast<long>(xrayd::embedded_migrations().size()));
  EXPECT_EQ(run_xrayd_migrate(), 0);
  EXPECT_EQ(pg().count("SELECT count(*) FROM xray_migrations"), applied);
  EXPECT_EQ(pg().count("SELECT count(*) FROM information_schema.tables WHERE table_name IN "
                       "('executions', 'steps', 'evaluations')"),
            3);
}

TEST_F(Migrate, TwoProcessesAtOnceBothSucceed) {
  // The advisory lock serialises them; the second finds nothing pending.
  auto a = std::async(std::launch::async, [&] { return run_xrayd_migrate(); });
  auto b = std::async(std::launch::async, [&] { return run_xrayd_migrate(); });
  EXPECT_EQ(a.get(), 0);
  EXPECT_EQ(b.get(), 0);
  EXPECT_EQ(pg().count("SELECT count(*) FROM xray_migrations"),
            static_cast<long>(xrayd::embedded_migrations().size()));
}

TEST_F(Migrate, FailedMigrationLeavesNothingAndNamesItself) {
  xrayd::Logger log(xrayd::LogLevel::kError);
  std::vector<xrayd::Migration> migrations = {
      {"001_ok", "CREATE TABLE a (x int)"},
      {"002_broken", "CREATE TABLE b (x int); SELECT no_such_function()"},
  };
  auto result = xrayd::migrate(pg().conninfo(), log, migrations);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("002_broken"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("no_such_function"), std::string::npos);
  EXPECT_EQ(pg().count("SELECT count(*) FROM xray_migrations"), 1);
  EXPECT_EQ(pg().count("SELECT count(*) FROM information_schema.tables WHERE table_name = 'b'"), 0);
}

TEST_F(Migrate, ReportsAnUnreachableServerClearly) {
  xrayd::Logger log(xrayd::LogLevel::kError);
  auto result = xrayd::migrate("host=/nonexistent-dir dbname=xray connect_timeout=2", log);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message.find("cannot connect to PostgreSQL"), std::string::npos);
}

}  // namespace
}  // namespace xray::testing
