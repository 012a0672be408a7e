#include "xray/client.h"

#include "core.h"
#include "sender.h"
#include "timestamp.h"
#include "uuid.h"

namespace xray {

const char* to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

Client::Client(ClientConfig config)
    : core_(std::make_shared<sdk::Core>(std::move(config))),
      sender_(std::make_unique<sdk::Sender>(core_)) {
  sdk::prime_uuid_seed();  // here, not on the first recording thread (invariant 6)
}

Client::~Client() {
  // Send or spool what is pending, within the configured time, then stop the
  // sender (which spools anything that arrived meanwhile).
  core_->flush(core_->config().shutdown_timeout);
  core_->close();
  sender_.reset();
}

Execution Client::start_execution(std::string_view pipeline, Json metadata) {
  auto state = std::make_shared<sdk::ExecutionState>();
  state->core = core_;
  state->record.id = sdk::make_uuid_v7();
  state->record.pipeline = std::string(pipeline);
  state->record.started_ms = sdk::now_unix_ms();
  state->record.metadata = std::move(metadata);
  return Execution(std::move(state));
}

bool Client::flush(std::chrono::milliseconds timeout) { return core_->flush(timeout); }

Counters Client::counters() const { return core_->counters(); }

const ClientConfig& Client::config() const { return core_->config(); }

}  // namespace xray
