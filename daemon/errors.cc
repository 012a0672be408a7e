#include "daemon/errors.h"

#include <stdexcept>

namespace xray {
namespace {

class XrayCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "xray"; }
  std::string message(int ev) const override { return errc_name(static_cast<Errc>(ev)); }
};

}  // namespace

const boost::system::error_category& xray_category() noexcept {
  static const XrayCategory kCategory;
  return kCategory;
}

int http_status(Errc e) noexcept {
  switch (e) {
    case Errc::kInvalidJson:
    case Errc::kInvalidSnapshot:
    case Errc::kLimitExceeded:
    case Errc::kBadRequest:
    case Errc::kBadQuery:
      return 400;
    case Errc::kForbidden:
      return 403;
    case Errc::kQueryTimeout:
      return 504;
    case Errc::kQueryFailed:
      return 500;
    case Errc::kBodyTooLarge:
      return 413;
    case Errc::kUnsupportedMediaType:
      return 415;
    case Errc::kNotFound:
      return 404;
    case Errc::kMethodNotAllowed:
      return 405;
    case Errc::kRejectedByDatabase:
      return 422;
    case Errc::kTimeout:
      return 408;
    case Errc::kBusy:
    case Errc::kShuttingDown:
    case Errc::kDatabaseUnavailable:
    case Errc::kTooManyConnections:
      return 503;
  }
  return 500;
}

xray::wire::AckStatus ack_status(Errc e) noexcept {
  using xray::wire::AckStatus;
  switch (e) {
    case Errc::kBusy:
    case Errc::kTooManyConnections:
      return AckStatus::kBusy;
    case Errc::kShuttingDown:
    case Errc::kDatabaseUnavailable:
    case Errc::kTimeout:
    case Errc::kQueryTimeout:
    case Errc::kQueryFailed:
      return AckStatus::kFailed;
    default:
      return AckStatus::kInvalid;
  }
}

const char* errc_name(Errc e) noexcept {
  switch (e) {
    case Errc::kInvalidJson:
      return "invalid_json";
    case Errc::kInvalidSnapshot:
      return "invalid_snapshot";
    case Errc::kLimitExceeded:
      return "limit_exceeded";
    case Errc::kBodyTooLarge:
      return "body_too_large";
    case Errc::kUnsupportedMediaType:
      return "unsupported_media_type";
    case Errc::kBadRequest:
      return "bad_request";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kMethodNotAllowed:
      return "method_not_allowed";
    case Errc::kBusy:
      return "busy";
    case Errc::kShuttingDown:
      return "shutting_down";
    case Errc::kRejectedByDatabase:
      return "rejected_by_database";
    case Errc::kDatabaseUnavailable:
      return "database_unavailable";
    case Errc::kTooManyConnections:
      return "too_many_connections";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kBadQuery:
      return "bad_query";
    case Errc::kQueryTimeout:
      return "query_timeout";
    case Errc::kQueryFailed:
      return "query_failed";
    case Errc::kForbidden:
      return "forbidden";
  }
  return "unknown";
}

}  // namespace xray

namespace boost {
void throw_exception_from_error(const xray::InputError& e, const boost::source_location&) {
  throw std::invalid_argument(e.message);
}
}  // namespace boost
