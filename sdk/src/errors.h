// The SDK's internal error convention: fallible functions return
// sdk::Result<T> (boost::system::result, STYLE.md §4). System call failures
// carry errno in boost::system::system_category; the SDK's own conditions are
// sdk::Errc values. None of this reaches the public headers: the public API
// reports through counters and the log callback instead.
#pragma once

#include <cerrno>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace xray::sdk {

enum class Errc {
  kSpoolFull = 1,  // appending would pass spool_max_bytes
  kTimeout,        // a deadline passed (connect, request, ack)
  kClosed,         // the peer closed the connection
  kProtocol,       // the peer sent bytes that do not parse (frame, HTTP response)
  kBadEndpoint,    // the HTTP endpoint string does not parse or resolve
  kRenamedAway,    // a file changed identity under us (another process took it)
};

const boost::system::error_category& sdk_category() noexcept;

inline boost::system::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), sdk_category()};
}

template <class T>
using Result = boost::system::result<T>;

// The error for the current errno.
inline boost::system::error_code last_error() noexcept {
  return {errno, boost::system::system_category()};
}

}  // namespace xray::sdk

namespace boost::system {
template <>
struct is_error_code_enum<xray::sdk::Errc> : std::true_type {};
}  // namespace boost::system
