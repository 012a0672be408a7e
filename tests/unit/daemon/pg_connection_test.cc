#include "daemon/pg_connection.h"

#include <gtest/gtest.h>

namespace xrayd {
namespace {

using xray::Errc;

TEST(PgConnection, ClassifiesConnectionAndTransientErrorsAsRetryable) {
  // Invariant 7: these keep the batch and try again.
  for (const char* state : {"08000", "08006", "08P01", "40001", "40P01", "57P01", "57P02", "57P03",
                            "53000", "53100", "53200", "53300"}) {
    EXPECT_EQ(classify(state, false), Errc::kDatabaseUnavailable) << state;
  }
  // libpq failed on its own: no SQLSTATE.
  EXPECT_EQ(classify("", false), Errc::kDatabaseUnavailable);
}

TEST(PgConnection, ClassifiesAnyErrorOnABadConnectionAsRetryable) {
  EXPECT_EQ(classify("23514", true), Errc::kDatabaseUnavailable);
  EXPECT_EQ(classify("22P02", true), Errc::kDatabaseUnavailable);
}

TEST(PgConnection, ClassifiesEverythingElseAsRejectedData) {
  // Invariant 5: these isolate the batch's snapshots.
  for (const char* state :
       {"23514", "23505", "23502", "22P02", "22001", "42P01", "57014", "40002", "XX000"}) {
    EXPECT_EQ(classify(state, false), Errc::kRejectedByDatabase) << state;
  }
}

TEST(PgConnection, ClientMessageNamesTheSqlstate) {
  PgError e{Errc::kRejectedByDatabase, "23514", "new row violates check constraint \"poison\""};
  EXPECT_EQ(e.client_message(), "new row violates check constraint \"poison\" (SQLSTATE 23514)");
  EXPECT_FALSE(e.retryable());
  PgError lost{Errc::kDatabaseUnavailable, "", "server closed the connection unexpectedly"};
  EXPECT_EQ(lost.client_message(), "server closed the connection unexpectedly");
  EXPECT_TRUE(lost.retryable());
}

TEST(PgConnection, ConnectFailureIsRetryableWithLibpqMessage) {
  auto conn = PgConnection::connect("host=/nonexistent-xray-dir dbname=xray connect_timeout=2",
                                    "xray-test");
  ASSERT_FALSE(conn.has_value());
  EXPECT_TRUE(conn.error().retryable());
  EXPECT_NE(conn.error().message.find("nonexistent-xray-dir"), std::string::npos)
      << conn.error().message;
}

}  // namespace
}  // namespace xrayd
