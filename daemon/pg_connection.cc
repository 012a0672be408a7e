#include "daemon/pg_connection.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <libpq-fe.h>

namespace xrayd {
namespace {

using xray::Errc;

struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

std::string trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// libpq copies COPY data into its send buffer; sending big pieces in slices
// keeps that buffer from growing to the size of a whole batch.
constexpr std::size_t kCopySliceBytes = 256 * 1024;

}  // namespace

std::string PgError::client_message() const {
  if (sqlstate.empty()) return message;
  return message + " (SQLSTATE " + sqlstate + ")";
}

Errc classify(std::string_view sqlstate, bool connection_bad) {
  // Without a connection, or when libpq failed on its own (no SQLSTATE), the
  // rows were never judged, so they may be written again.
  if (connection_bad || sqlstate.size() != 5) return Errc::kDatabaseUnavailable;
  const std::string_view cls = sqlstate.substr(0, 2);
  // Connection exception; insufficient resources (disk, memory, connections).
  if (cls == "08" || cls == "53") return Errc::kDatabaseUnavailable;
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return Errc::kDatabaseUnavailable;  // serialization failure, deadlock: the next try may pass
  }
  if (sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") {
    return Errc::kDatabaseUnavailable;  // admin shutdown, crash shutdown, cannot connect now
  }
  return Errc::kRejectedByDatabase;
}

PgRows::PgRows(pg_result* result) : result_(result) {}

PgRows::~PgRows() { PQclear(result_); }

PgRows& PgRows::operator=(PgRows&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

std::size_t PgRows::rows() const {
  return result_ == nullptr ? 0 : static_cast<std::size_t>(PQntuples(result_));
}

std::size_t PgRows::columns() const {
  return result_ == nullptr ? 0 : static_cast<std::size_t>(PQnfields(result_));
}

bool PgRows::is_null(std::size_t row, std::size_t column) const {
  return PQgetisnull(result_, static_cast<int>(row), static_cast<int>(column)) == 1;
}

std::string_view PgRows::get(std::size_t row, std::size_t column) const {
  const int r = static_cast<int>(row);
  const int c = static_cast<int>(column);
  return {PQgetvalue(result_, r, c), static_cast<std::size_t>(PQgetlength(result_, r, c))};
}

PgRows PgRows::make_for_test(std::size_t columns,
                             const std::vector<std::vector<std::optional<std::string>>>& rows) {
  PGresult* result = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  std::vector<PGresAttDesc> attributes(columns);
  std::vector<std::string> names;
  for (std::size_t c = 0; c < columns; ++c) names.push_back("c" + std::to_string(c));
  for (std::size_t c = 0; c < columns; ++c) {
    attributes[c] = PGresAttDesc{names[c].data(), 0, 0, 0, 25 /* text */, -1, -1};
  }
  PQsetResultAttrs(result, static_cast<int>(columns), attributes.data());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t c = 0; c < columns; ++c) {
      const auto& cell = rows[r][c];
      // A length of -1 makes the cell NULL.
      PQsetvalue(result, static_cast<int>(r), static_cast<int>(c),
                 cell ? const_cast<char*>(cell->c_str()) : nullptr,
                 cell ? static_cast<int>(cell->size()) : -1);
    }
  }
  return PgRows(result);
}

PgCanceler::~PgCanceler() { PQfreeCancel(cancel_); }

bool PgCanceler::cancel() {
  if (cancel_ == nullptr) return false;
  char error[256];
  // PQcancel (unlike PQrequestCancel) is safe to call from another thread.
  return PQcancel(cancel_, error, sizeof error) == 1;
}

PgResult<std::unique_ptr<PgConnection>> PgConnection::connect(const std::string& conninfo,
                                                              const std::string& application_name) {
  // libpq applies keywords in order, and `dbname` expands to the caller's
  // conninfo, so the caller can override everything before it. The COPY rows
  // are UTF-8 whatever the environment says, so client_encoding comes after.
  // Keepalives and tcp_user_timeout only matter over TCP: they turn a server
  // that vanished from the network into an error instead of an endless wait.
  const char* const keys[] = {"connect_timeout",  "keepalives_idle",  "keepalives_interval",
                              "keepalives_count", "tcp_user_timeout", "application_name",
                              "dbname",           "client_encoding",  nullptr};
  const char* const values[] = {
      "10", "30", "10", "3", "60000", application_name.c_str(), conninfo.c_str(), "UTF8", nullptr};
  PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (raw == nullptr) return PgError{Errc::kDatabaseUnavailable, {}, "libpq: out of memory"};
  std::unique_ptr<PgConnection> conn(new PgConnection(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    return PgError{Errc::kDatabaseUnavailable, {}, trimmed(PQerrorMessage(raw))};
  }
  return conn;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::poll_healthy() {
  if (healthy() && PQconsumeInput(conn_) != 1) broken_ = true;
  return healthy();
}

std::unique_ptr<PgCanceler> PgConnection::make_canceler() const {
  return std::make_unique<PgCanceler>(PQgetCancel(conn_));
}

void PgConnection::set_notice_handler(std::function<void(std::string_view)> handler) {
  notice_handler_ = std::move(handler);
  PQsetNoticeProcessor(conn_, &PgConnection::on_notice, this);
}

void PgConnection::on_notice(void* self, const char* message) {
  auto* conn = static_cast<PgConnection*>(self);
  if (conn->notice_handler_) conn->notice_handler_(trimmed(message));
}

PgError PgConnection::error_from(const pg_result* result) const {
  PgError e;
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    if (state != nullptr) e.sqlstate = state;
    e.message = primary != nullptr ? primary : trimmed(PQresultErrorMessage(result));
  }
  if (e.message.empty()) e.message = trimmed(PQerrorMessage(conn_));
  if (e.message.empty()) e.message = "unknown libpq failure";
  e.code = classify(e.sqlstate, !healthy());
  return e;
}

PgResult<void> PgConnection::exec(const std::string& sql) {
  ResultPtr r(PQexec(conn_, sql.c_str()));
  const ExecStatusType status = PQresultStatus(r.get());  // FATAL_ERROR for a null result
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  return error_from(r.get());
}

PgResult<void> PgConnection::copy_in(const std::string& copy_sql,
                                     std::span<const std::string_view> pieces) {
  // PQexec stops at the COPY's CopyInResponse, after any statements before it.
  ResultPtr started(PQexec(conn_, copy_sql.c_str()));
  if (PQresultStatus(started.get()) != PGRES_COPY_IN) return error_from(started.get());
  bool sent = true;
  for (std::string_view piece : pieces) {
    while (sent && !piece.empty()) {
      const std::size_t n = std::min(piece.size(), kCopySliceBytes);
      sent = PQputCopyData(conn_, piece.data(), static_cast<int>(n)) == 1;
      piece.remove_prefix(n);
    }
  }
  if (!sent || PQputCopyEnd(conn_, nullptr) != 1) {
    broken_ = true;  // still inside COPY as far as the server knows
    return error_from(nullptr);
  }
  ResultPtr done(PQgetResult(conn_));
  std::optional<PgError> error;
  if (PQresultStatus(done.get()) != PGRES_COMMAND_OK) error = error_from(done.get());
  // Read to the end of the command so the connection is ready for the next one.
  while (ResultPtr extra{PQgetResult(conn_)}) {
  }
  if (error) return *error;
  return {};
}

PgResult<std::vector<std::string>> PgConnection::pipeline(std::span<const std::string> statements) {
  if (PQenterPipelineMode(conn_) != 1) return error_from(nullptr);
  // From here on, a failure to send or read leaves the pipeline half done;
  // such a connection is marked broken and never used again.
  for (const std::string& sql : statements) {
    if (PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
      broken_ = true;
      return error_from(nullptr);
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    broken_ = true;
    return error_from(nullptr);
  }
  std::vector<std::string> tags;
  std::optional<PgError> first_error;
  // Each statement's results end with a null; the Sync's own result ends the pipeline.
  std::size_t nulls = 0;
  for (;;) {
    ResultPtr r(PQgetResult(conn_));
    if (r == nullptr) {
      if (PQstatus(conn_) == CONNECTION_BAD || ++nulls > statements.size()) {
        broken_ = true;
        break;
      }
      continue;
    }
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_PIPELINE_SYNC) break;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      tags.emplace_back(PQcmdStatus(r.get()));
    } else if (status != PGRES_PIPELINE_ABORTED && !first_error) {
      first_error = error_from(r.get());
    }
  }
  if (!broken_ && PQexitPipelineMode(conn_) != 1) broken_ = true;
  if (broken_ && !first_error) first_error = error_from(nullptr);
  if (first_error) {
    // The connection may have failed after the error was read.
    first_error->code = classify(first_error->sqlstate, !healthy());
    return *first_error;
  }
  return tags;
}

PgResult<PgRows> PgConnection::query(const std::string& sql, std::span<const std::string> params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  ResultPtr r(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(r.get());
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return PgRows(r.release());
  return error_from(r.get());
}

int PgConnection::socket() const { return PQsocket(conn_); }

PgResult<std::vector<PgNotification>> PgConnection::take_notifications() {
  if (!healthy() || PQconsumeInput(conn_) != 1) {
    broken_ = true;
    return error_from(nullptr);
  }
  std::vector<PgNotification> out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.push_back({n->relname != nullptr ? n->relname : "", n->extra != nullptr ? n->extra : ""});
    PQfreemem(n);
  }
  return out;
}

PgResult<void> PgConnection::rollback_if_open() {
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      return {};
    case PQTRANS_INTRANS:
    case PQTRANS_INERROR:
      return exec("ROLLBACK");
    case PQTRANS_ACTIVE:
    case PQTRANS_UNKNOWN:
      break;
  }
  broken_ = true;  // a command still running, or no connection: nothing to roll back on
  return error_from(nullptr);
}

}  // namespace xrayd
