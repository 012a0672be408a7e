#include "xray/execution.h"

#include "core.h"
#include "timestamp.h"

namespace xray {
namespace {

void finish(sdk::ExecutionState& state, sdk::ExecutionStatus status) {
  const std::int64_t now = sdk::now_unix_ms();
  for (sdk::StepRecord& step : state.record.steps) {
    if (!step.ended_ms) step.ended_ms = now;  // steps still open end with the execution
  }
  state.record.ended_ms = now;
  std::string snapshot = sdk::serialize_snapshot(state.core->context(), state.record, status);
  state.finished = true;
  // Free the recording now; only the id stays readable.
  state.record.steps = {};
  state.record.metadata = state.record.result = state.record.error = nullptr;
  state.core->submit(std::move(snapshot));
}

}  // namespace

// --- Step

Step::Step(std::shared_ptr<sdk::ExecutionState> state, std::size_t index)
    : state_(std::move(state)), index_(index) {}

Step::~Step() { end(); }

Step::Step(Step&& other) noexcept : state_(std::move(other.state_)), index_(other.index_) {}

Step& Step::operator=(Step&& other) noexcept {
  if (this != &other) {
    end();
    state_ = std::move(other.state_);
    index_ = other.index_;
  }
  return *this;
}

sdk::StepRecord* Step::record() {
  if (!state_ || state_->finished) return nullptr;
  return &state_->record.steps[index_];
}

Step& Step::input(Json value) {
  if (sdk::StepRecord* r = record()) r->input = std::move(value);
  return *this;
}

Step& Step::output(Json value) {
  if (sdk::StepRecord* r = record()) r->output = std::move(value);
  return *this;
}

Step& Step::filters(Json value) {
  if (sdk::StepRecord* r = record()) r->filters = std::move(value);
  return *this;
}

Step& Step::evaluate(Evaluation evaluation) {
  if (sdk::StepRecord* r = record()) r->evaluations.push_back(std::move(evaluation));
  return *this;
}

Step& Step::evaluations(std::vector<Evaluation> evaluations) {
  sdk::StepRecord* r = record();
  if (r == nullptr) return *this;
  if (r->evaluations.empty()) {
    r->evaluations = std::move(evaluations);
  } else {
    for (Evaluation& e : evaluations) r->evaluations.push_back(std::move(e));
  }
  return *this;
}

Step& Step::selection(Json value) {
  if (sdk::StepRecord* r = record()) r->selection = std::move(value);
  return *this;
}

Step& Step::reasoning(std::string text) {
  if (sdk::StepRecord* r = record()) r->reasoning = std::move(text);
  return *this;
}

Step& Step::metadata(std::string key, Json value) {
  if (sdk::StepRecord* r = record()) r->metadata.set(std::move(key), std::move(value));
  return *this;
}

Step& Step::error(Json error) {
  if (sdk::StepRecord* r = record()) {
    r->error = std::move(error);
    r->status = sdk::StepStatus::kFailed;
  }
  return *this;
}

Step& Step::skip(std::string reason) {
  if (sdk::StepRecord* r = record()) {
    r->status = sdk::StepStatus::kSkipped;
    if (!reason.empty()) r->reasoning = std::move(reason);
  }
  return *this;
}

void Step::end() {
  sdk::StepRecord* r = record();
  if (r != nullptr && !r->ended_ms) r->ended_ms = sdk::now_unix_ms();
}

// --- Execution

Execution::Execution(std::shared_ptr<sdk::ExecutionState> state) : state_(std::move(state)) {}

Execution::~Execution() {
  if (!state_ || state_->finished) return;
  // Abandoned: destroyed without complete() or fail(). "abandoned" goes into
  // the existing error and metadata fields; the daemon rejects unknown fields.
  state_->record.error =
      Json{{"type", "abandoned"}, {"message", "execution destroyed without complete() or fail()"}};
  state_->record.metadata.set("abandoned", true);
  finish(*state_, sdk::ExecutionStatus::kFailed);
}

Execution& Execution::operator=(Execution&& other) noexcept {
  if (this != &other) {
    Execution abandoned(std::move(*this));  // finishes the current one, if unfinished
    state_ = std::move(other.state_);
  }
  return *this;
}

const std::string& Execution::id() const {
  static const std::string kNone;
  return state_ ? state_->record.id : kNone;
}

Step Execution::step(std::string_view name) {
  if (!state_ || state_->finished) return Step();
  sdk::StepRecord r;
  r.name = std::string(name);
  r.started_ms = sdk::now_unix_ms();
  state_->record.steps.push_back(std::move(r));
  return Step(state_, state_->record.steps.size() - 1);
}

void Execution::metadata(std::string key, Json value) {
  if (!state_ || state_->finished) return;
  state_->record.metadata.set(std::move(key), std::move(value));
}

void Execution::complete(Json result) {
  if (!state_ || state_->finished) return;
  state_->record.result = std::move(result);
  finish(*state_, sdk::ExecutionStatus::kCompleted);
}

void Execution::fail(Json error) {
  if (!state_ || state_->finished) return;
  state_->record.error = std::move(error);
  finish(*state_, sdk::ExecutionStatus::kFailed);
}

bool Execution::finished() const { return state_ && state_->finished; }

}  // namespace xray
