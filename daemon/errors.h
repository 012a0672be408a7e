// xrayd's error codes and the one place that maps them to what clients see.
//
// Fallible functions return xray::Result<T> (boost::system::result). Errors are
// xray::Errc values behind an error category, cheap to compare and readable in
// logs. Where the client must learn which field or limit is wrong (parser,
// frame decoder), InputError carries the code plus the field path and a
// message. errors.cc alone maps each Errc to an HTTP status and a UDS ack, so
// the two transports agree (STYLE.md §4). Thread-safe: everything is pure.
#pragma once

#include <string>
#include <system_error>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "xray/wire.h"

namespace xray {

enum class Errc {
  // 0 is success in error_code; start at 1.
  kInvalidJson = 1,       // body/line is not JSON
  kInvalidSnapshot,       // wrong type, missing or unknown field, bad value (names the field)
  kLimitExceeded,         // steps, depth, string bytes, evaluations… over a configured limit
  kBodyTooLarge,          // request body or frame over max_body_bytes
  kUnsupportedMediaType,  // Content-Type is not JSON or NDJSON
  kBadRequest,            // malformed HTTP or frame header
  kNotFound,              // no such route
  kMethodNotAllowed,      // route exists, method does not
  kBusy,                  // over the memory budget (invariant 3): refuse, retry later
  kShuttingDown,          // daemon is stopping; retry later (elsewhere)
  kRejectedByDatabase,    // PostgreSQL refused this snapshot's rows (invariant 5)
  kDatabaseUnavailable,   // PostgreSQL could not be reached in time
  kTooManyConnections,    // max_connections reached
  kTimeout,               // a read deadline passed
  // The decision explorer (docs/api.md).
  kBadQuery,      // a query parameter, filter or cursor is invalid (names it)
  kQueryTimeout,  // a query ran past query_timeout (statement_timeout)
  kQueryFailed,   // PostgreSQL failed a query for another reason (a bug: see the log)
  kForbidden,     // the request's Host is not one the explorer answers
};

const boost::system::error_category& xray_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), xray_category()};
}

template <class T>
using Result = boost::system::result<T>;

// An input error with the path of the offending field ("steps[2].evaluations[0].id")
// or the limit's option name ("max_steps"), and a message for the client.
struct InputError {
  Errc code = Errc::kInvalidSnapshot;
  std::string field;    // empty when the whole input is at fault
  std::string message;  // complete sentence fragment, already names the field/limit
};

// HTTP status for an error code (400, 413, 415, 503, …).
int http_status(Errc e) noexcept;

// The UDS ack status for an error code: invalid (never retry), busy or failed (retry).
xray::wire::AckStatus ack_status(Errc e) noexcept;

// Short stable name for logs, metrics labels and JSON "code" fields ("invalid_snapshot").
const char* errc_name(Errc e) noexcept;

}  // namespace xray

namespace boost {
// Lets boost::system::result<T, InputError>::value() throw (only tests call value()).
[[noreturn]] void throw_exception_from_error(const xray::InputError& e,
                                             const boost::source_location& loc);
}  // namespace boost

namespace boost::system {
template <>
struct is_error_code_enum<xray::Errc> : std::true_type {};
}  // namespace boost::system
