// xray::Execution and xray::Step: the recording of one decision, step by step.
//
//   xray::Execution run = client.start_execution("competitor-selection",
//                                                {{"productId", "B0C1234"}});
//   {
//     xray::Step step = run.step("filter_candidates");   // started_at: now
//     step.input({{"candidates", 48}})
//         .filters({{"price", {{"min", 10}, {"max", 40}}}});
//     step.evaluate({.id = "B0042", .passed = false, .reasons = {"price 49.99 > 40"}});
//     step.evaluate({.id = "B0077", .passed = true, .scores = {{"rating", 4.6}}});
//     step.output({{"kept", 7}}).reasoning("dropped 41 outside the price band");
//   }                                                     // ended_at: here (or step.end())
//   run.complete({{"selected", "B0077"}});                // hands the snapshot to the sender
//
// Everything here only appends to memory owned by the Execution; complete()
// and fail() serialise the snapshot and enqueue it without blocking or I/O.
// An Execution destroyed without complete() or fail() is sent as failed, its
// error and metadata marked "abandoned". Steps still open at complete()/fail()
// are ended then.
//
// Threads: an Execution and its Steps are used by one thread at a time (hand
// them over with proper synchronisation if you must); different Executions
// may be recorded on different threads at once. Calls on a finished
// Execution, or on a Step of one, are ignored.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xray/json.h"

namespace xray {

namespace sdk {
struct ExecutionState;
struct StepRecord;
}  // namespace sdk

// How one candidate fared in a step. `id` is the caller's candidate id.
struct Evaluation {
  std::string id;
  bool passed = false;
  std::vector<std::string> reasons;                    // e.g. "price 49.99 > 40"
  std::vector<std::pair<std::string, double>> scores;  // e.g. {"rating", 4.6}
  Json metadata;                                       // optional, an object
};

// One step of an execution. Move-only; ends (ended_at = now) when end() is
// called or when it is destroyed, whichever comes first. Setting a field twice
// keeps the last value. The setters return *this for chaining.
class Step {
 public:
  Step() = default;  // detached: every call is ignored
  ~Step();
  Step(Step&& other) noexcept;
  Step& operator=(Step&& other) noexcept;
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;

  Step& input(Json value);
  Step& output(Json value);
  Step& filters(Json value);
  // Appends one candidate's evaluation.
  Step& evaluate(Evaluation evaluation);
  // Appends many; cheaper than one call each for large candidate sets.
  Step& evaluations(std::vector<Evaluation> evaluations);
  Step& selection(Json value);
  Step& reasoning(std::string text);
  // Sets one key of the step's metadata object.
  Step& metadata(std::string key, Json value);
  // Marks the step failed with `error` (a message string or an object).
  Step& error(Json error);
  // Marks the step skipped; `reason` goes into reasoning when not empty.
  Step& skip(std::string reason = {});

  // Records ended_at now. Later calls do nothing; the fields may still be set
  // until the execution finishes.
  void end();

 private:
  friend class Execution;
  Step(std::shared_ptr<sdk::ExecutionState> state, std::size_t index);
  sdk::StepRecord* record();  // nullptr when detached or the execution has finished

  std::shared_ptr<sdk::ExecutionState> state_;
  std::size_t index_ = 0;
};

class Execution {
 public:
  Execution() = default;  // detached: every call is ignored, nothing is sent
  // An unfinished execution is sent as failed and marked abandoned.
  ~Execution();
  Execution(Execution&& other) noexcept = default;
  Execution& operator=(Execution&& other) noexcept;
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  // The execution id (a UUIDv7), "" when detached.
  const std::string& id() const;

  // Starts a step named `name` now; steps keep the order in which they were started.
  Step step(std::string_view name);

  // Sets one key of the execution's metadata object.
  void metadata(std::string key, Json value);

  // Finishes the execution as completed with `result` and hands the snapshot
  // to the sender. Never blocks, never throws (but std::bad_alloc).
  void complete(Json result = nullptr);
  // Finishes the execution as failed with `error` (a message string or an object).
  void fail(Json error);

  // True once complete(), fail() or abandonment has handed the snapshot over.
  bool finished() const;

 private:
  friend class Client;
  explicit Execution(std::shared_ptr<sdk::ExecutionState> state);

  std::shared_ptr<sdk::ExecutionState> state_;
};

}  // namespace xray
