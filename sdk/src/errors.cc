#include "errors.h"

#include <string>

namespace xray::sdk {
namespace {

class SdkCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "xray.sdk"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kSpoolFull:
        return "spool is full";
      case Errc::kTimeout:
        return "timed out";
      case Errc::kClosed:
        return "connection closed by peer";
      case Errc::kProtocol:
        return "malformed data from peer";
      case Errc::kBadEndpoint:
        return "bad endpoint";
      case Errc::kRenamedAway:
        return "file changed identity";
    }
    return "unknown sdk error";
  }
};

}  // namespace

const boost::system::error_category& sdk_category() noexcept {
  static const SdkCategory kCategory;
  return kCategory;
}

}  // namespace xray::sdk
