#include "daemon/snapshot_parser.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "daemon/budget_resource.h"
#include "daemon/timestamp.h"

namespace xrayd {
namespace {

namespace json = boost::json;
using xray::Errc;
using xray::InputError;

// Paths and messages quote at most this much of the input back.
constexpr std::size_t kMaxQuotedBytes = 64;

std::string to_text(std::size_t n) { return std::to_string(n); }

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// The first kMaxQuotedBytes of `s`, cut at a UTF-8 character boundary, as a
// JSON string literal: safe to put into a message and into a JSON error body.
std::string quote(std::string_view s) {
  bool cut = false;
  if (s.size() > kMaxQuotedBytes) {
    std::size_t n = kMaxQuotedBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out = json::serialize(json::string_view(s.data(), s.size()));
  if (cut) out.insert(out.size() - 1, "...");
  return out;
}

// ".key" when the key reads plainly in a path, else ["key"] quoted.
std::string key_segment(std::string_view key) {
  bool plain = !key.empty() && key.size() <= kMaxQuotedBytes;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '$')) {
      plain = false;
      break;
    }
  }
  // Appends instead of operator+ chains: GCC 12 at -O3 warns (-Wrestrict)
  // falsely about the inlined concatenation.
  std::string out;
  if (plain) {
    out.reserve(key.size() + 1);
    out.push_back('.');
    out.append(key);
    return out;
  }
  out.push_back('[');
  out.append(quote(key));
  out.push_back(']');
  return out;
}

// Where a field sits. Rendered to a path only when an error is reported, so
// the valid path costs nothing.
struct Where {
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::size_t step = kNone;
  std::size_t evaluation = kNone;

  // "steps[2].evaluations[0].passed"; `field` may be empty or carry its own suffix.
  std::string path(std::string_view field) const {
    std::string out;
    if (step != kNone) out = "steps[" + to_text(step) + "]";
    if (evaluation != kNone) out += ".evaluations[" + to_text(evaluation) + "]";
    if (field.empty()) return out;
    if (field.front() == '.' && out.empty()) field.remove_prefix(1);  // a key segment at the top
    if (!out.empty() && field.front() != '.' && field.front() != '[') out += '.';
    out += field;
    return out;
  }
};

// What is wrong with a string or number found while walking free-form JSON.
enum class Fault { kNone, kNul, kTooLong, kKeyNul, kKeyTooLong, kNotFinite };

Fault check_chars(std::string_view s, std::size_t max_bytes, bool key) {
  if (s.size() > max_bytes) return key ? Fault::kKeyTooLong : Fault::kTooLong;
  // PostgreSQL cannot store U+0000 in text or jsonb (snapshot.h invariant 1).
  if (std::memchr(s.data(), 0, s.size()) != nullptr) return key ? Fault::kKeyNul : Fault::kNul;
  return Fault::kNone;
}

// Walks a free-form value. On a fault, `suffix` receives the path below `v`
// ("[3].name") and `bytes` the offending length; built only on the way out.
// Recursion depth is bounded by max_json_depth, which the parser enforced.
Fault walk(const json::value& v, std::size_t max_bytes, std::string& suffix, std::size_t& bytes) {
  switch (v.kind()) {
    case json::kind::string: {
      const json::string& s = v.get_string();
      bytes = s.size();
      return check_chars(s, max_bytes, false);
    }
    case json::kind::double_:
      // Boost.JSON reads 1e400 as infinity, which no JSON column accepts (invariant 2).
      return std::isfinite(v.get_double()) ? Fault::kNone : Fault::kNotFinite;
    case json::kind::array: {
      const json::array& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        Fault f = walk(a[i], max_bytes, suffix, bytes);
        if (f != Fault::kNone) {
          std::string index = "[";
          index.append(to_text(i)).push_back(']');
          suffix.insert(0, index);
          return f;
        }
      }
      return Fault::kNone;
    }
    case json::kind::object:
      for (const json::key_value_pair& member : v.get_object()) {
        Fault f = check_chars(member.key(), max_bytes, true);
        if (f != Fault::kNone) {
          bytes = member.key().size();
        } else {
          f = walk(member.value(), max_bytes, suffix, bytes);
        }
        if (f != Fault::kNone) {
          suffix.insert(0, key_segment(member.key()));
          return f;
        }
      }
      return Fault::kNone;
    default:
      return Fault::kNone;
  }
}

// Validates the parsed document field by field. Each check returns false
// after recording the first error in error_.
class Validator {
 public:
  explicit Validator(const SnapshotLimits& limits) : limits_(limits) {}

  InputError take_error() { return std::move(error_); }

  bool snapshot(json::value& root, Snapshot& out) {
    json::object* obj = root.if_object();
    if (obj == nullptr) {
      return fail(Errc::kInvalidSnapshot, "",
                  std::string("expected a JSON object at the top level, got ") + kind_name(root));
    }
    const Where top;
    json::value* id = nullptr;
    json::value* app = nullptr;
    json::value* pipeline = nullptr;
    json::value* environment = nullptr;
    json::value* status = nullptr;
    json::value* started_at = nullptr;
    json::value* ended_at = nullptr;
    json::value* metadata = nullptr;
    json::value* result = nullptr;
    json::value* error = nullptr;
    json::value* steps = nullptr;
    for (json::key_value_pair& member : *obj) {
      std::string_view key = member.key();
      json::value* v = &member.value();
      if (key == "id") {
        id = v;
      } else if (key == "app") {
        app = v;
      } else if (key == "pipeline") {
        pipeline = v;
      } else if (key == "environment") {
        environment = v;
      } else if (key == "status") {
        status = v;
      } else if (key == "started_at") {
        started_at = v;
      } else if (key == "ended_at") {
        ended_at = v;
      } else if (key == "metadata") {
        metadata = v;
      } else if (key == "result") {
        result = v;
      } else if (key == "error") {
        error = v;
      } else if (key == "steps") {
        steps = v;
      } else {
        return unknown(top, key);
      }
    }
    if (!identifier(id, top, "id", out.id) || !identifier(app, top, "app", out.app) ||
        !identifier(pipeline, top, "pipeline", out.pipeline) ||
        !optional_string(environment, top, "environment", out.environment) ||
        !execution_status(status, out.status) ||
        !required_timestamp(started_at, top, "started_at", out.started_at) ||
        !timestamp(ended_at, top, "ended_at", out.ended_at) ||
        !object_or_null(metadata, top, "metadata", out.metadata) ||
        !any_value(result, top, "result", out.result) ||
        !any_value(error, top, "error", out.error)) {
      return false;
    }
    return step_list(steps, out.steps);
  }

 private:
  bool fail(Errc code, std::string field, std::string message) {
    error_ = InputError{code, std::move(field), std::move(message)};
    return false;
  }

  bool invalid(const Where& w, std::string_view field, std::string_view what) {
    std::string path = w.path(field);
    std::string message = path + ": " + std::string(what);
    return fail(Errc::kInvalidSnapshot, std::move(path), std::move(message));
  }

  bool wrong_type(const Where& w, std::string_view field, std::string_view expected,
                  const json::value& got) {
    return invalid(w, field, "expected " + std::string(expected) + ", got " + kind_name(got));
  }

  bool missing(const Where& w, std::string_view field) {
    return invalid(w, field, "required field is missing");
  }

  bool unknown(const Where& w, std::string_view key) {
    std::string path = w.path(key_segment(key));
    return fail(Errc::kInvalidSnapshot, path, path + ": unknown field");
  }

  // Reports a Fault found at `w`.`field` + `suffix`.
  bool fault(Fault f, const Where& w, std::string_view field, const std::string& suffix,
             std::size_t bytes) {
    std::string path = w.path(field) + suffix;
    switch (f) {
      case Fault::kTooLong:
      case Fault::kKeyTooLong:
        return fail(Errc::kLimitExceeded, "max_string_bytes",
                    path + ": " + (f == Fault::kKeyTooLong ? "key" : "string") + " of " +
                        to_text(bytes) + " bytes exceeds max_string_bytes (" +
                        to_text(limits_.max_string_bytes) + ")");
      case Fault::kNul:
      case Fault::kKeyNul:
        return fail(Errc::kInvalidSnapshot, path,
                    path + ": " + (f == Fault::kKeyNul ? "key contains" : "contains") +
                        " U+0000, which PostgreSQL cannot store");
      case Fault::kNotFinite:
        return fail(Errc::kInvalidSnapshot, path, path + ": number out of range");
      case Fault::kNone:
        break;
    }
    return true;
  }

  bool string_chars(const json::string& s, const Where& w, std::string_view field) {
    Fault f = check_chars(s, limits_.max_string_bytes, false);
    return f == Fault::kNone || fault(f, w, field, "", s.size());
  }

  // A free-form value: any JSON, checked for strings and numbers PostgreSQL can store.
  bool free_form(const json::value& v, const Where& w, std::string_view field) {
    std::string suffix;
    std::size_t bytes = 0;
    Fault f = walk(v, limits_.max_string_bytes, suffix, bytes);
    return f == Fault::kNone || fault(f, w, field, suffix, bytes);
  }

  // Required, non-empty, at most kMaxIdentifierBytes: these are index keys.
  bool identifier(const json::value* v, const Where& w, std::string_view field,
                  std::string_view& out) {
    if (v == nullptr) return missing(w, field);
    const json::string* s = v->if_string();
    if (s == nullptr) return wrong_type(w, field, "a string", *v);
    if (s->empty()) return invalid(w, field, "must not be empty");
    if (s->size() > kMaxIdentifierBytes) {
      return invalid(
          w, field,
          to_text(s->size()) + " bytes exceed the maximum of " + to_text(kMaxIdentifierBytes));
    }
    if (!string_chars(*s, w, field)) return false;
    out = *s;
    return true;
  }

  bool optional_string(const json::value* v, const Where& w, std::string_view field,
                       std::optional<std::string_view>& out) {
    if (v == nullptr || v->is_null()) return true;
    const json::string* s = v->if_string();
    if (s == nullptr) return wrong_type(w, field, "a string or null", *v);
    if (!string_chars(*s, w, field)) return false;
    out = *s;
    return true;
  }

  bool object_or_null(const json::value* v, const Where& w, std::string_view field,
                      const json::object*& out) {
    if (v == nullptr || v->is_null()) return true;
    const json::object* o = v->if_object();
    if (o == nullptr) return wrong_type(w, field, "an object or null", *v);
    if (!free_form(*v, w, field)) return false;
    out = o;
    return true;
  }

  // Any JSON; JSON null is stored as SQL NULL (snapshot.h invariant 3).
  bool any_value(const json::value* v, const Where& w, std::string_view field,
                 const json::value*& out) {
    if (v == nullptr || v->is_null()) return true;
    if (!free_form(*v, w, field)) return false;
    out = v;
    return true;
  }

  bool timestamp(const json::value* v, const Where& w, std::string_view field,
                 std::optional<Timestamp>& out) {
    if (v == nullptr || v->is_null()) return true;
    constexpr std::string_view kExpected =
        "an RFC 3339 timestamp (2026-11-22T10:00:00.123Z) or integer epoch milliseconds";
    if (v->is_int64() || v->is_uint64()) {
      // uint64 only holds values above INT64_MAX: always out of range.
      constexpr std::int64_t kMinMs = kMinTimestamp.time_since_epoch().count() / 1000;
      constexpr std::int64_t kMaxMs = kMaxTimestamp.time_since_epoch().count() / 1000;
      if (v->is_uint64() || v->get_int64() < kMinMs || v->get_int64() > kMaxMs) {
        return invalid(w, field, "epoch milliseconds outside years 0001..9999");
      }
      out = Timestamp{std::chrono::milliseconds{v->get_int64()}};
      return true;
    }
    const json::string* s = v->if_string();
    if (s == nullptr) return wrong_type(w, field, kExpected, *v);
    Timestamp t{};
    switch (parse_rfc3339(*s, t)) {
      case TimeFault::kNone:
        out = t;
        return true;
      case TimeFault::kSyntax:
        return invalid(w, field, "expected " + std::string(kExpected) + ", got " + quote(*s));
      case TimeFault::kNotADate:
        return invalid(w, field, quote(*s) + " is not a valid date and time");
      case TimeFault::kOutOfRange:
        return invalid(w, field, quote(*s) + " is outside years 0001..9999 UTC");
    }
    return true;
  }

  bool required_timestamp(const json::value* v, const Where& w, std::string_view field,
                          Timestamp& out) {
    if (v == nullptr) return missing(w, field);
    if (v->is_null()) return wrong_type(w, field, "a timestamp", *v);
    std::optional<Timestamp> t;
    if (!timestamp(v, w, field, t)) return false;
    out = *t;
    return true;
  }

  bool execution_status(const json::value* v, ExecutionStatus& out) {
    const Where top;
    if (v == nullptr) return missing(top, "status");
    const json::string* s = v->if_string();
    if (s == nullptr) return wrong_type(top, "status", "a string", *v);
    for (ExecutionStatus e :
         {ExecutionStatus::kRunning, ExecutionStatus::kCompleted, ExecutionStatus::kFailed}) {
      if (*s == status_name(e)) {
        out = e;
        return true;
      }
    }
    return invalid(top, "status", "expected one of running, completed, failed; got " + quote(*s));
  }

  bool step_status(const json::value* v, const Where& w, StepStatus& out) {
    if (v == nullptr || v->is_null()) return true;  // default: completed
    const json::string* s = v->if_string();
    if (s == nullptr) return wrong_type(w, "status", "a string or null", *v);
    for (StepStatus e : {StepStatus::kCompleted, StepStatus::kFailed, StepStatus::kSkipped}) {
      if (*s == status_name(e)) {
        out = e;
        return true;
      }
    }
    return invalid(w, "status", "expected one of completed, failed, skipped; got " + quote(*s));
  }

  bool step_list(json::value* v, std::vector<Step>& out) {
    if (v == nullptr || v->is_null()) return true;
    json::array* steps = v->if_array();
    if (steps == nullptr) return wrong_type(Where{}, "steps", "an array or null", *v);
    if (steps->size() > limits_.max_steps) {
      return fail(Errc::kLimitExceeded, "max_steps",
                  "steps: " + to_text(steps->size()) + " steps exceed max_steps (" +
                      to_text(limits_.max_steps) + ")");
    }
    out.resize(steps->size());
    for (std::size_t i = 0; i < steps->size(); ++i) {
      if (!step((*steps)[i], Where{i}, out[i])) return false;
    }
    return true;
  }

  bool step(json::value& v, const Where& w, Step& out) {
    json::object* obj = v.if_object();
    if (obj == nullptr) return wrong_type(w, "", "an object", v);
    json::value* name = nullptr;
    json::value* status = nullptr;
    json::value* started_at = nullptr;
    json::value* ended_at = nullptr;
    json::value* input = nullptr;
    json::value* output = nullptr;
    json::value* filters = nullptr;
    json::value* evaluations = nullptr;
    json::value* selection = nullptr;
    json::value* reasoning = nullptr;
    json::value* metadata = nullptr;
    json::value* error = nullptr;
    for (json::key_value_pair& member : *obj) {
      std::string_view key = member.key();
      json::value* field = &member.value();
      if (key == "name") {
        name = field;
      } else if (key == "status") {
        status = field;
      } else if (key == "started_at") {
        started_at = field;
      } else if (key == "ended_at") {
        ended_at = field;
      } else if (key == "input") {
        input = field;
      } else if (key == "output") {
        output = field;
      } else if (key == "filters") {
        filters = field;
      } else if (key == "evaluations") {
        evaluations = field;
      } else if (key == "selection") {
        selection = field;
      } else if (key == "reasoning") {
        reasoning = field;
      } else if (key == "metadata") {
        metadata = field;
      } else if (key == "error") {
        error = field;
      } else {
        return unknown(w, key);
      }
    }
    return identifier(name, w, "name", out.name) && step_status(status, w, out.status) &&
           timestamp(started_at, w, "started_at", out.started_at) &&
           timestamp(ended_at, w, "ended_at", out.ended_at) &&
           any_value(input, w, "input", out.input) && any_value(output, w, "output", out.output) &&
           object_or_null(filters, w, "filters", out.filters) &&
           evaluation_list(evaluations, w, out.evaluations) &&
           any_value(selection, w, "selection", out.selection) &&
           optional_string(reasoning, w, "reasoning", out.reasoning) &&
           object_or_null(metadata, w, "metadata", out.metadata) &&
           any_value(error, w, "error", out.error);
  }

  bool evaluation_list(json::value* v, const Where& w, std::vector<Evaluation>& out) {
    if (v == nullptr || v->is_null()) return true;
    json::array* evaluations = v->if_array();
    if (evaluations == nullptr) return wrong_type(w, "evaluations", "an array or null", *v);
    if (evaluations->size() > limits_.max_evaluations) {
      return fail(Errc::kLimitExceeded, "max_evaluations",
                  w.path("evaluations") + ": " + to_text(evaluations->size()) +
                      " evaluations exceed max_evaluations (" + to_text(limits_.max_evaluations) +
                      ")");
    }
    out.resize(evaluations->size());
    for (std::size_t j = 0; j < evaluations->size(); ++j) {
      if (!evaluation((*evaluations)[j], Where{w.step, j}, out[j])) return false;
    }
    return true;
  }

  bool evaluation(json::value& v, const Where& w, Evaluation& out) {
    json::object* obj = v.if_object();
    if (obj == nullptr) return wrong_type(w, "", "an object", v);
    json::value* id = nullptr;
    json::value* passed = nullptr;
    json::value* reasons = nullptr;
    json::value* scores = nullptr;
    json::value* metadata = nullptr;
    for (json::key_value_pair& member : *obj) {
      std::string_view key = member.key();
      json::value* field = &member.value();
      if (key == "id") {
        id = field;
      } else if (key == "passed") {
        passed = field;
      } else if (key == "reasons") {
        reasons = field;
      } else if (key == "scores") {
        scores = field;
      } else if (key == "metadata") {
        metadata = field;
      } else {
        return unknown(w, key);
      }
    }
    if (id != nullptr && (id->is_int64() || id->is_uint64())) {
      // An integer id is stored as its decimal text; the document keeps the text
      // so that candidate_id can point into it like any other string.
      char digits[24];
      auto [end, ec] = id->is_int64()
                           ? std::to_chars(digits, digits + sizeof digits, id->get_int64())
                           : std::to_chars(digits, digits + sizeof digits, id->get_uint64());
      (void)ec;  // 24 bytes hold any 64-bit integer
      id->emplace_string().assign(digits, static_cast<std::size_t>(end - digits));
    } else if (id != nullptr && !id->is_string()) {
      return wrong_type(w, "id", "a string or an integer", *id);
    }
    if (!identifier(id, w, "id", out.candidate_id)) return false;
    if (passed != nullptr && !passed->is_null()) {
      if (!passed->is_bool()) return wrong_type(w, "passed", "a boolean or null", *passed);
      out.passed = passed->get_bool();
    }
    return reason_list(reasons, w, out.reasons) &&
           object_or_null(scores, w, "scores", out.scores) &&
           object_or_null(metadata, w, "metadata", out.metadata);
  }

  bool reason_list(const json::value* v, const Where& w, const json::array*& out) {
    if (v == nullptr || v->is_null()) return true;
    const json::array* reasons = v->if_array();
    if (reasons == nullptr) return wrong_type(w, "reasons", "an array of strings or null", *v);
    for (std::size_t k = 0; k < reasons->size(); ++k) {
      const json::value& reason = (*reasons)[k];
      std::string field = "reasons[" + to_text(k) + "]";
      const json::string* s = reason.if_string();
      if (s == nullptr) return wrong_type(w, field, "a string", reason);
      if (!string_chars(*s, w, field)) return false;
    }
    out = reasons;
    return true;
  }

  const SnapshotLimits& limits_;
  InputError error_;
};

// "line 3, column 14 (byte 52)" for a byte offset into `text`.
std::string position(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return "line " + to_text(line) + ", column " + to_text(offset - line_start + 1) + " (byte " +
         to_text(offset) + ")";
}

}  // namespace

boost::system::result<Snapshot, InputError> parse_snapshot(std::string_view text,
                                                           const SnapshotLimits& limits,
                                                           json::storage_ptr upstream) {
  // The document lives in a monotonic resource (a pointer bump per node, one
  // release at the end) that the document itself keeps alive. The parser's
  // scratch stack starts in a stack buffer and spills to the default heap.
  json::storage_ptr storage = json::make_shared_resource<json::monotonic_resource>(
      std::max<std::size_t>(1024, text.size()), std::move(upstream));
  unsigned char scratch[4096];
  json::parse_options options;
  options.max_depth = limits.max_json_depth;
  json::parser parser({}, options, scratch, sizeof scratch);
  parser.reset(storage);

  boost::system::error_code ec;
  std::size_t consumed = 0;
  try {
    consumed = parser.write(text.data(), text.size(), ec);
  } catch (const BudgetExhausted&) {
    // Invariant 3: refused for now, not invalid; the client retries later.
    return InputError{Errc::kBusy, "memory_limit",
                      "over memory budget (memory_limit) while parsing; retry later"};
  }
  if (ec == json::error::too_deep) {
    return InputError{Errc::kLimitExceeded, "max_json_depth",
                      "JSON nesting exceeds max_json_depth (" + to_text(limits.max_json_depth) +
                          ") at " + position(text, consumed)};
  }
  if (ec) {
    return InputError{Errc::kInvalidJson, "",
                      "invalid JSON at " + position(text, consumed) + ": " + ec.message()};
  }

  Snapshot snapshot;
  snapshot.document = std::make_unique<json::value>(parser.release());
  Validator validator(limits);
  if (!validator.snapshot(*snapshot.document, snapshot)) return validator.take_error();
  return snapshot;
}

std::size_t view_bytes(const Snapshot& snapshot) {
  std::size_t bytes = sizeof(Snapshot) + snapshot.steps.capacity() * sizeof(Step);
  for (const Step& step : snapshot.steps) bytes += step.evaluations.capacity() * sizeof(Evaluation);
  return bytes;
}

}  // namespace xrayd
