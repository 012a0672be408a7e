// PgConnection: one libpq connection (PGconn) and the few ways xrayd talks
// through it — plain statements, COPY ... FROM STDIN and a pipeline of small
// statements sent in one round trip (the writers), a parameterized query that
// returns rows (the explorer's query pool), LISTEN notifications (the live
// feed) — with every failure turned into a PgError value.
//
// A PgError keeps PostgreSQL's own message and SQLSTATE, for the log and for
// the client, and says what the caller should do about it (classify()):
//   - Errc::kDatabaseUnavailable: the connection is lost or the failure is
//     transient (SQLSTATE class 08, 40001, 40P01, 57P01/57P02/57P03, class 53,
//     a libpq failure without a SQLSTATE, or any error once the connection is
//     bad). Keep the data and try again, on a new connection if !healthy().
//   - Errc::kRejectedByDatabase: everything else — PostgreSQL refused the data
//     itself. Retrying the same rows gives the same answer (invariant 5).
//
// Blocking: every call waits on the network. Use it from a writer thread (or
// a test), never from an io thread (STYLE §11.2). A PgConnection is used by one
// thread at a time; only the PgCanceler it hands out may be used from another.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "daemon/errors.h"

// libpq's handle types (PGconn, PGresult, PGcancel), so this header need not include libpq-fe.h.
struct pg_conn;
struct pg_result;
struct pg_cancel;

namespace xrayd {

struct PgError {
  xray::Errc code = xray::Errc::kDatabaseUnavailable;  // see the header comment
  std::string sqlstate;  // five characters; empty when libpq failed without the server
  std::string message;   // PostgreSQL's primary message, or libpq's

  bool retryable() const { return code == xray::Errc::kDatabaseUnavailable; }
  // "<message> (SQLSTATE xxxxx)", or just the message without a SQLSTATE: what a client sees.
  std::string client_message() const;
};

template <class T>
using PgResult = boost::system::result<T, PgError>;

// The rows of a query, in text format, owned until destroyed (it holds the
// PGresult, so reading a value copies nothing). Move-only; any thread, one at
// a time.
class PgRows {
 public:
  explicit PgRows(pg_result* result);
  ~PgRows();
  PgRows(PgRows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgRows& operator=(PgRows&& other) noexcept;
  PgRows(const PgRows&) = delete;
  PgRows& operator=(const PgRows&) = delete;

  std::size_t rows() const;
  std::size_t columns() const;
  bool is_null(std::size_t row, std::size_t column) const;
  // The value's text; empty for NULL. Valid while this PgRows lives.
  std::string_view get(std::size_t row, std::size_t column) const;

  // Rows built without a server (libpq can make a result client-side), for
  // tests of code that renders rows; nullopt cells are NULL.
  static PgRows make_for_test(std::size_t columns,
                              const std::vector<std::vector<std::optional<std::string>>>& rows);

 private:
  pg_result* result_;
};

// One NOTIFY received on a LISTENing connection.
struct PgNotification {
  std::string channel;
  std::string payload;
};

// The classification above, as a pure function of the SQLSTATE (empty if none)
// and whether libpq reports the connection as bad.
xray::Errc classify(std::string_view sqlstate, bool connection_bad);

// Cancels whatever statement its connection is running (PQcancel). Any thread;
// may block for as long as it takes to open the cancel connection. Stays valid
// after its PgConnection is gone (cancelling then does nothing useful).
class PgCanceler {
 public:
  explicit PgCanceler(pg_cancel* cancel) : cancel_(cancel) {}
  ~PgCanceler();
  PgCanceler(const PgCanceler&) = delete;
  PgCanceler& operator=(const PgCanceler&) = delete;

  // True if the cancel request was delivered (the statement may still finish).
  bool cancel();

 private:
  pg_cancel* cancel_;
};

class PgConnection {
 public:
  // Connects to `conninfo` (a libpq connection string or URI) with
  // `application_name` set, client_encoding UTF8, a connect timeout and TCP
  // keepalives (so a vanished server is noticed instead of waited on forever;
  // settings in `conninfo` take precedence). Error: kDatabaseUnavailable with
  // libpq's message.
  [[nodiscard]] static PgResult<std::unique_ptr<PgConnection>> connect(
      const std::string& conninfo, const std::string& application_name);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` (one or more statements, simple protocol) and waits for it.
  [[nodiscard]] PgResult<void> exec(const std::string& sql);

  // Runs `copy_sql` — `COPY ... FROM STDIN`, optionally preceded by other
  // statements such as "BEGIN; " — then sends `pieces` in order as the COPY
  // data (text format, whole lines) and ends the COPY.
  [[nodiscard]] PgResult<void> copy_in(const std::string& copy_sql,
                                       std::span<const std::string_view> pieces);

  // Sends `statements` (each one statement, no parameters) in pipeline mode
  // followed by one Sync, so they cost one round trip, and reads all their
  // results. Returns each statement's command tag ("INSERT 0 3", "COMMIT"),
  // or the first statement's error; the statements after a failed one are not
  // run. Inside an open transaction a failure leaves it aborted: roll back.
  [[nodiscard]] PgResult<std::vector<std::string>> pipeline(
      std::span<const std::string> statements);

  // Runs one statement with `params` bound as $1, $2, ... (text format; the
  // statement casts each, "$1::text") and returns its rows. Values never
  // become SQL text, which is how the explorer keeps request values out of
  // its statements.
  [[nodiscard]] PgResult<PgRows> query(const std::string& sql, std::span<const std::string> params);

  // The socket to wait on (poll) for notifications; -1 without a connection.
  int socket() const;

  // Non-blocking: reads what the server sent and returns the notifications
  // received since the last call (LISTEN first, with exec()). Error when the
  // connection is lost.
  [[nodiscard]] PgResult<std::vector<PgNotification>> take_notifications();

  // ROLLBACK if a transaction is open (idle or aborted); nothing otherwise.
  [[nodiscard]] PgResult<void> rollback_if_open();

  // False once the connection is lost or left in a state we cannot use (for
  // example a pipeline we could not finish): then drop it and connect anew.
  bool healthy() const;

  // Non-blocking check while idle: reads whatever the server sent (such as
  // a termination notice) and returns healthy().
  bool poll_healthy();

  // A canceler for this connection's running statement, for another thread.
  std::unique_ptr<PgCanceler> make_canceler() const;

  // Where the server's notices and warnings go (one trimmed message per call)
  // instead of libpq's default, stderr. Called on the thread using the connection.
  void set_notice_handler(std::function<void(std::string_view)> handler);

 private:
  explicit PgConnection(pg_conn* conn) : conn_(conn) {}

  // The error of the last operation on this connection (from `result` if it
  // has one), classified.
  PgError error_from(const pg_result* result) const;

  static void on_notice(void* self, const char* message);

  pg_conn* conn_;
  std::function<void(std::string_view)> notice_handler_;
  bool broken_ = false;  // set when the protocol state is unknown; see healthy()
};

}  // namespace xrayd
