#include "daemon/filter_compiler.h"

#include <array>
#include <cmath>
#include <span>
#include <vector>

#include <boost/json/serialize.hpp>

#include "daemon/timestamp.h"
#include "daemon/url.h"

namespace xrayd {
namespace {

namespace json = boost::json;
using xray::Errc;
using xray::InputError;

enum class FieldType {
  kText,       // text: eq ne gt gte lt lte in contains
  kInteger,    // integer: eq ne gt gte lt lte in
  kNumber,     // double precision: eq ne gt gte lt lte in
  kTimestamp,  // timestamptz (RFC 3339 or epoch ms): eq ne gt gte lt lte in
  kBoolean,    // boolean: eq ne in
  kReasons,    // text[]: eq ne (an array of strings), contains, exists
  kJson,       // jsonb, optionally followed by keys: every operator
};

struct Field {
  std::string_view path;  // the request's spelling; for kJson, the column part
  std::string_view sql;   // an expression over the target's aliases
  FieldType type;
  bool nullable;
};

// The allow-lists. Nothing else ever reaches the SQL text.
constexpr std::array kExecutionFields = {
    Field{"app", "e.app", FieldType::kText, false},
    Field{"id", "e.id", FieldType::kText, false},
    Field{"pipeline", "e.pipeline", FieldType::kText, false},
    Field{"environment", "e.environment", FieldType::kText, true},
    Field{"status", "e.status", FieldType::kText, false},
    Field{"started_at", "e.started_at", FieldType::kTimestamp, false},
    Field{"ended_at", "e.ended_at", FieldType::kTimestamp, true},
    Field{"duration_ms", "e.duration_ms", FieldType::kNumber, true},
    Field{"step_count", "e.step_count", FieldType::kInteger, false},
    Field{"metadata", "e.metadata", FieldType::kJson, true},
};

constexpr std::array kStepFields = {
    Field{"app", "s.app", FieldType::kText, false},
    Field{"execution_id", "s.execution_id", FieldType::kText, false},
    Field{"index", "s.step_index", FieldType::kInteger, false},
    Field{"name", "s.name", FieldType::kText, false},
    Field{"status", "s.status", FieldType::kText, false},
    Field{"started_at", "s.started_at", FieldType::kTimestamp, true},
    Field{"duration_ms", "s.duration_ms", FieldType::kNumber, true},
    Field{"candidates_in", "s.candidates_in", FieldType::kInteger, true},
    Field{"candidates_passed", "s.candidates_passed", FieldType::kInteger, true},
    Field{"eliminated_ratio",
          "(CASE WHEN s.candidates_in > 0 THEN (s.candidates_in - s.candidates_passed)::float8"
          " / s.candidates_in END)",
          FieldType::kNumber, true},
    Field{"reasoning", "s.reasoning", FieldType::kText, true},
    Field{"filters", "s.filters", FieldType::kJson, true},
    Field{"selection", "s.selection", FieldType::kJson, true},
    Field{"metadata", "s.metadata", FieldType::kJson, true},
    Field{"execution.pipeline", "e.pipeline", FieldType::kText, false},
    Field{"execution.environment", "e.environment", FieldType::kText, true},
    Field{"execution.status", "e.status", FieldType::kText, false},
};

constexpr std::array kEvaluationFields = {
    Field{"app", "v.app", FieldType::kText, false},
    Field{"execution_id", "v.execution_id", FieldType::kText, false},
    Field{"step_index", "v.step_index", FieldType::kInteger, false},
    Field{"candidate_id", "v.candidate_id", FieldType::kText, false},
    Field{"passed", "v.passed", FieldType::kBoolean, true},
    Field{"reasons", "v.reasons", FieldType::kReasons, false},
    Field{"scores", "v.scores", FieldType::kJson, true},
    Field{"metadata", "v.metadata", FieldType::kJson, true},
    Field{"step.name", "s.name", FieldType::kText, false},
    Field{"execution.pipeline", "e.pipeline", FieldType::kText, false},
};

std::span<const Field> fields_of(QueryTarget target) {
  switch (target) {
    case QueryTarget::kExecutions:
      return kExecutionFields;
    case QueryTarget::kSteps:
      return kStepFields;
    case QueryTarget::kEvaluations:
      return kEvaluationFields;
  }
  return {};
}

const char* type_name(FieldType t) {
  switch (t) {
    case FieldType::kText:
      return "text";
    case FieldType::kInteger:
      return "an integer";
    case FieldType::kNumber:
      return "a number";
    case FieldType::kTimestamp:
      return "a timestamp";
    case FieldType::kBoolean:
      return "a boolean";
    case FieldType::kReasons:
      return "an array of strings";
    case FieldType::kJson:
      return "JSON";
  }
  return "a value";
}

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

// Request text quoted back in a message: at most 64 bytes (cut at a UTF-8
// boundary), as a JSON string literal.
std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 64;
  bool cut = false;
  if (s.size() > kMax) {
    std::size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  return json::serialize(json::string(s)) + (cut ? "..." : "");
}

enum class Op { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kExists, kContains };

struct OpName {
  std::string_view name;
  Op op;
};
constexpr std::array kOps = {
    OpName{"eq", Op::kEq},   OpName{"ne", Op::kNe},         OpName{"gt", Op::kGt},
    OpName{"gte", Op::kGte}, OpName{"lt", Op::kLt},         OpName{"lte", Op::kLte},
    OpName{"in", Op::kIn},   OpName{"exists", Op::kExists}, OpName{"contains", Op::kContains},
};
constexpr std::string_view kOpList = "eq, ne, gt, gte, lt, lte, in, exists, contains";

std::string_view sql_comparison(Op op) {
  switch (op) {
    case Op::kEq:
      return " = ";
    case Op::kNe:
      return " <> ";
    case Op::kGt:
      return " > ";
    case Op::kGte:
      return " >= ";
    case Op::kLt:
      return " < ";
    case Op::kLte:
      return " <= ";
    default:
      return " = ";
  }
}

// Every string and key in `v` can be stored by PostgreSQL (jsonb refuses U+0000).
bool storable(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return is_storable_text(v.get_string());
    case json::kind::array:
      for (const auto& e : v.get_array()) {
        if (!storable(e)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!is_storable_text(kv.key()) || !storable(kv.value())) return false;
      }
      return true;
    case json::kind::double_:
      return std::isfinite(v.get_double());
    default:
      return true;
  }
}

// A resolved path: the field, and for a JSON field the keys below its column.
struct Resolved {
  const Field* field = nullptr;
  std::vector<std::string> keys;
};

class Compiler {
 public:
  Compiler(QueryTarget target, SqlParams& params) : target_(target), params_(params) {}

  boost::system::result<std::string, InputError> expr(const json::value& v, const std::string& at,
                                                      std::size_t depth) {
    if (depth > kMaxFilterDepth) {
      return bad(at, "the filter is nested deeper than " + std::to_string(kMaxFilterDepth) +
                         " levels of and/or/not");
    }
    const json::object* o = v.if_object();
    if (o == nullptr) {
      return bad(at,
                 "expected a filter object ({\"and\": [...]}, {\"or\": [...]}, "
                 "{\"not\": ...} or {\"path\", \"op\", \"value\"}), got " +
                     std::string(kind_name(v)));
    }
    if (o->contains("and") || o->contains("or")) {
      const bool is_and = o->contains("and");
      const char* key = is_and ? "and" : "or";
      if (o->size() != 1) return bad(at + "." + other_key(*o, key), only_one(key));
      const json::array* items = o->at(key).if_array();
      const std::string items_at = at + "." + key;
      if (items == nullptr || items->empty()) {
        return bad(items_at, std::string("expected a non-empty array of filters"));
      }
      std::string out = "(";
      for (std::size_t i = 0; i < items->size(); ++i) {
        auto part = expr((*items)[i], items_at + "[" + std::to_string(i) + "]", depth + 1);
        if (!part) return part;
        if (i > 0) out += is_and ? " AND " : " OR ";
        out += *part;
      }
      return out + ")";
    }
    if (o->contains("not")) {
      if (o->size() != 1) return bad(at + "." + other_key(*o, "not"), only_one("not"));
      auto inner = expr(o->at("not"), at + ".not", depth + 1);
      if (!inner) return inner;
      return "(NOT " + *inner + ")";
    }
    return leaf(*o, at);
  }

 private:
  static std::string other_key(const json::object& o, std::string_view key) {
    for (const auto& kv : o) {
      if (kv.key() != key) return std::string(kv.key());
    }
    return std::string(key);
  }
  static std::string only_one(std::string_view key) {
    return "an object with \"" + std::string(key) + "\" may hold nothing else";
  }

  static InputError bad(const std::string& at, std::string message) {
    return {Errc::kBadQuery, at, at + ": " + message};
  }

  boost::system::result<std::string, InputError> leaf(const json::object& o,
                                                      const std::string& at) {
    for (const auto& kv : o) {
      if (kv.key() != "path" && kv.key() != "op" && kv.key() != "value") {
        return bad(at + "." + std::string(kv.key()),
                   "unknown member " + quote(kv.key()) +
                       "; a comparison has \"path\", \"op\" and \"value\"");
      }
    }
    if (++leaves_ > kMaxFilterLeaves) {
      return bad(at,
                 "the filter holds more than " + std::to_string(kMaxFilterLeaves) + " comparisons");
    }
    const json::value* path_v = o.if_contains("path");
    if (path_v == nullptr) {
      return bad(at, "expected \"and\", \"or\", \"not\" or a comparison with \"path\"");
    }
    const json::string* path = path_v->if_string();
    if (path == nullptr) {
      return bad(at + ".path", "expected a string, got " + std::string(kind_name(*path_v)));
    }
    auto resolved = resolve(*path, at + ".path");
    if (!resolved) return resolved.error();
    const json::value* op_v = o.if_contains("op");
    if (op_v == nullptr) return bad(at + ".op", "missing; expected one of " + std::string(kOpList));
    const json::string* op_name = op_v->if_string();
    std::optional<Op> op;
    for (const auto& candidate : kOps) {
      if (op_name != nullptr && *op_name == candidate.name) op = candidate.op;
    }
    if (!op) {
      return bad(at + ".op",
                 "unknown operator " +
                     (op_name != nullptr ? quote(*op_name) : std::string(kind_name(*op_v))) +
                     "; expected one of " + std::string(kOpList));
    }
    const json::value* value = o.if_contains("value");
    const std::string value_at = at + ".value";
    if (value == nullptr) return bad(value_at, "missing");
    if (!storable(*value)) {
      return bad(value_at, "holds U+0000 or a number PostgreSQL cannot store");
    }
    const Field& f = *resolved->field;
    if (f.type == FieldType::kJson) return json_leaf(f, resolved->keys, *op, *value, value_at);
    return column_leaf(f, *op, *value, value_at, at, *op_name);
  }

  boost::system::result<Resolved, InputError> resolve(std::string_view path,
                                                      const std::string& at) {
    const auto fields = fields_of(target_);
    for (const Field& f : fields) {
      if (path == f.path) return Resolved{&f, {}};
    }
    const auto dot = path.find('.');
    const std::string_view head = path.substr(0, dot);
    for (const Field& f : fields) {
      if (f.type != FieldType::kJson || head != f.path) continue;
      Resolved r{&f, {}};
      std::string_view rest = path.substr(dot + 1);
      for (;;) {
        const auto next = rest.find('.');
        std::string_view key = rest.substr(0, next);
        if (key.empty() || key.size() > 64 ||
            key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789_-") != std::string_view::npos) {
          return bad(at, "invalid JSON key in path " + quote(path) +
                             ": keys are 1 to 64 letters, digits, _ or -");
        }
        r.keys.emplace_back(key);
        if (r.keys.size() > kMaxPathKeys) {
          return bad(at, "path " + quote(path) + " is deeper than " + std::to_string(kMaxPathKeys) +
                             " keys");
        }
        if (next == std::string_view::npos) break;
        rest = rest.substr(next + 1);
      }
      return r;
    }
    std::string known;
    for (const Field& f : fields) {
      known += (known.empty() ? "" : ", ") + std::string(f.path);
      if (f.type == FieldType::kJson) known += "[.key...]";
    }
    return bad(at, "unknown path " + quote(path) + " for this target; known: " + known);
  }

  // A value of `type` as a bound parameter; false (and `error`) when it is not one.
  bool scalar(FieldType type, const json::value& v, const std::string& at, std::string& sql,
              InputError& error) {
    switch (type) {
      case FieldType::kText:
        if (!v.is_string()) break;
        sql = params_.add(std::string(v.get_string()), "text");
        return true;
      case FieldType::kInteger:
        if (v.is_int64()) {
          sql = params_.add(std::to_string(v.get_int64()), "bigint");
          return true;
        }
        if (!v.is_number()) break;
        sql = params_.add(json::serialize(v), "numeric");
        return true;
      case FieldType::kNumber:
        if (!v.is_number()) break;
        sql = params_.add(json::serialize(v), "float8");
        return true;
      case FieldType::kTimestamp: {
        std::optional<Timestamp> t;
        if (Timestamp parsed{};
            v.is_string() && parse_rfc3339(v.get_string(), parsed) == TimeFault::kNone) {
          t = parsed;
        } else if (v.is_int64()) {
          t = parse_time_text(std::to_string(v.get_int64()));
        }
        if (!t) {
          error = bad(at,
                      "expected an RFC 3339 timestamp (2026-11-22T10:00:00.123Z) or integer "
                      "epoch milliseconds in years 0001..9999, got " +
                          (v.is_string() ? quote(v.get_string()) : std::string(kind_name(v))));
          return false;
        }
        sql = "(timestamptz 'epoch' + " + params_.add(std::to_string(epoch_micros(*t)), "bigint") +
              " * interval '1 microsecond')";
        return true;
      }
      case FieldType::kBoolean:
        if (!v.is_bool()) break;
        sql = params_.add(v.get_bool() ? "true" : "false", "boolean");
        return true;
      default:
        break;
    }
    error = bad(at, std::string("expected ") + type_name(type) + ", got " + kind_name(v));
    return false;
  }

  // "(expr IS NOT NULL AND cond)" for a nullable expr, so the result is never NULL.
  static std::string guarded(const Field& f, const std::string& cond) {
    if (!f.nullable) return "(" + cond + ")";
    return "(" + std::string(f.sql) + " IS NOT NULL AND " + cond + ")";
  }

  boost::system::result<std::string, InputError> column_leaf(const Field& f, Op op,
                                                             const json::value& value,
                                                             const std::string& value_at,
                                                             const std::string& at,
                                                             const json::string& op_name) {
    const std::string col(f.sql);
    const auto not_for = [&](const char* what) {
      return bad(at + ".op", "operator " + quote(op_name) + " does not apply to " +
                                 std::string(f.path) + " (" + type_name(f.type) + ")" + what);
    };
    if (f.type == FieldType::kReasons) {
      if (op == Op::kContains) {
        if (!value.is_string()) {
          return bad(value_at, std::string("expected a string, got ") + kind_name(value));
        }
        return "(EXISTS (SELECT 1 FROM unnest(" + col +
               ") AS r(reason) WHERE strpos(lower(reason), "
               "lower(" +
               params_.add(std::string(value.get_string()), "text") + ")) > 0))";
      }
      if (op == Op::kExists) {
        if (!value.is_bool())
          return bad(value_at, std::string("expected true or false, got ") + kind_name(value));
        return std::string("(cardinality(") + col + (value.get_bool() ? ") > 0)" : ") = 0)");
      }
      if (op == Op::kEq || op == Op::kNe) {
        const json::array* a = value.if_array();
        bool strings = a != nullptr;
        if (a != nullptr) {
          for (const auto& e : *a) strings = strings && e.is_string();
        }
        if (!strings) {
          return bad(value_at,
                     std::string("expected an array of strings, got ") + kind_name(value));
        }
        const std::string list = "ARRAY(SELECT x.t FROM jsonb_array_elements_text(" +
                                 params_.add(json::serialize(value), "jsonb") +
                                 ") WITH ORDINALITY AS x(t, i) ORDER BY x.i)::text[]";
        return "(" + col + (op == Op::kEq ? " = " : " <> ") + list + ")";
      }
      return not_for("; use contains, exists, eq or ne");
    }
    switch (op) {
      case Op::kEq:
      case Op::kGt:
      case Op::kGte:
      case Op::kLt:
      case Op::kLte: {
        if (f.type == FieldType::kBoolean && op != Op::kEq) return not_for("; use eq, ne or in");
        std::string param;
        InputError error;
        if (!scalar(f.type, value, value_at, param, error)) return error;
        return guarded(f, col + std::string(sql_comparison(op)) + param);
      }
      case Op::kNe: {
        std::string param;
        InputError error;
        if (!scalar(f.type, value, value_at, param, error)) return error;
        if (!f.nullable) return "(" + col + " <> " + param + ")";
        return "(" + col + " IS NULL OR " + col + " <> " + param + ")";
      }
      case Op::kIn: {
        const json::array* a = value.if_array();
        if (a == nullptr) {
          return bad(value_at, std::string("expected an array, got ") + kind_name(value));
        }
        if (a->size() > kMaxInValues) {
          return bad(value_at, "more than " + std::to_string(kMaxInValues) + " values");
        }
        if (a->empty()) return std::string("false");
        std::string list;
        for (std::size_t i = 0; i < a->size(); ++i) {
          std::string param;
          InputError error;
          if (!scalar(f.type, (*a)[i], value_at + "[" + std::to_string(i) + "]", param, error)) {
            return error;
          }
          list += (i > 0 ? ", " : "") + param;
        }
        return guarded(f, col + " IN (" + list + ")");
      }
      case Op::kContains: {
        if (f.type != FieldType::kText) return not_for("; contains applies to text and JSON");
        if (!value.is_string()) {
          return bad(value_at, std::string("expected a string, got ") + kind_name(value));
        }
        return guarded(f, "strpos(lower(" + col + "), lower(" +
                              params_.add(std::string(value.get_string()), "text") + ")) > 0");
      }
      case Op::kExists:
        return not_for("; exists applies to JSON paths and reasons");
    }
    return not_for("");
  }

  boost::system::result<std::string, InputError> json_leaf(const Field& f,
                                                           const std::vector<std::string>& keys,
                                                           Op op, const json::value& value,
                                                           const std::string& value_at) {
    // The value at the path: the column itself, or `column #> '{k1,k2}'`
    // with the keys bound too (they are checked, but need not be trusted).
    std::string x(f.sql);
    if (!keys.empty()) {
      // Keys are letters, digits, _ and -: no quoting rule of an array literal applies.
      std::string literal = "{";
      for (const auto& k : keys) literal += (literal.size() > 1 ? ",\"" : "\"") + k + "\"";
      x = "(" + x + " #> " + params_.add(literal + "}", "text[]") + ")";
    }
    const auto jsonb = [&](const json::value& v) {
      return params_.add(json::serialize(v), "jsonb");
    };
    switch (op) {
      case Op::kEq:
        return "(" + x + " IS NOT NULL AND " + x + " = " + jsonb(value) + ")";
      case Op::kNe:
        return "(" + x + " IS NULL OR " + x + " <> " + jsonb(value) + ")";
      case Op::kGt:
      case Op::kGte:
      case Op::kLt:
      case Op::kLte: {
        const std::string cmp(sql_comparison(op));
        // CASE fixes the order of evaluation: the cast runs only on a number.
        if (value.is_number()) {
          return "(CASE WHEN jsonb_typeof(" + x + ") = 'number' THEN (" + x + ")::numeric" + cmp +
                 params_.add(json::serialize(value), "numeric") + " ELSE false END)";
        }
        if (value.is_string()) {
          return "(CASE WHEN jsonb_typeof(" + x + ") = 'string' THEN (" + x + " #>> '{}')" + cmp +
                 params_.add(std::string(value.get_string()), "text") + " ELSE false END)";
        }
        return bad(value_at, std::string("expected a number or a string, got ") + kind_name(value));
      }
      case Op::kIn: {
        const json::array* a = value.if_array();
        if (a == nullptr) {
          return bad(value_at, std::string("expected an array, got ") + kind_name(value));
        }
        if (a->size() > kMaxInValues) {
          return bad(value_at, "more than " + std::to_string(kMaxInValues) + " values");
        }
        if (a->empty()) return std::string("false");
        std::string list;
        for (std::size_t i = 0; i < a->size(); ++i) list += (i > 0 ? ", " : "") + jsonb((*a)[i]);
        return "(" + x + " IS NOT NULL AND " + x + " IN (" + list + "))";
      }
      case Op::kExists:
        if (!value.is_bool()) {
          return bad(value_at, std::string("expected true or false, got ") + kind_name(value));
        }
        return "(" + x + (value.get_bool() ? " IS NOT NULL)" : " IS NULL)");
      case Op::kContains: {
        if (value.is_null()) {
          return bad(value_at, "expected a string, number, boolean, array or object, got null");
        }
        if (value.is_object() || value.is_array()) {
          return "(" + x + " IS NOT NULL AND " + x + " @> " + jsonb(value) + ")";
        }
        if (value.is_string()) {
          const std::string s = params_.add(std::string(value.get_string()), "text");
          return "(CASE jsonb_typeof(" + x + ") WHEN 'string' THEN strpos(lower(" + x +
                 " #>> '{}'), lower(" + s +
                 ")) > 0 WHEN 'array' THEN EXISTS (SELECT 1 FROM "
                 "jsonb_array_elements(" +
                 x +
                 ") AS el(v) WHERE jsonb_typeof(el.v) = 'string' "
                 "AND strpos(lower(el.v #>> '{}'), lower(" +
                 s + ")) > 0) ELSE false END)";
        }
        // A number or a boolean: equal to the value, or an element of an array equal to it.
        json::array wrapped{value};
        return "(CASE jsonb_typeof(" + x + ") WHEN 'array' THEN " + x + " @> " + jsonb(wrapped) +
               " WHEN 'object' THEN false ELSE " + x + " = " + jsonb(value) + " END)";
      }
    }
    return bad(value_at, "unsupported");
  }

  QueryTarget target_;
  SqlParams& params_;
  std::size_t leaves_ = 0;
};

}  // namespace

std::optional<QueryTarget> query_target_named(std::string_view name) {
  if (name == "executions") return QueryTarget::kExecutions;
  if (name == "steps") return QueryTarget::kSteps;
  if (name == "evaluations") return QueryTarget::kEvaluations;
  return std::nullopt;
}

boost::system::result<std::string, InputError> compile_filter(QueryTarget target,
                                                              const json::value& where,
                                                              SqlParams& params,
                                                              std::string_view field) {
  if (where.is_null()) return std::string("TRUE");
  Compiler compiler(target, params);
  return compiler.expr(where, std::string(field), 1);
}

}  // namespace xrayd
