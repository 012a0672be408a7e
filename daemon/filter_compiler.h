// FilterCompiler: the explorer's filter language (POST /v1/query, docs/api.md)
// compiled into a parameterized SQL condition.
//
//   <expr> = {"and": [<expr>, ...]} | {"or": [<expr>, ...]} | {"not": <expr>}
//          | {"path": "<path>", "op": "<op>", "value": <json>}
//
// Paths come from one allow-list per target (kExecutionFields, ...): plain
// columns, and JSON columns followed by dot-separated keys of letters,
// digits, `_` and `-` (at most kMaxPathKeys). The SQL text is built only from
// that allow-list and from SQL written here; every value from the request —
// and the JSON keys of a path too — is a bind parameter (SqlParams). Anything
// else is refused with kBadQuery and, as InputError::field, the JSON path of
// the offending element inside the request body ("where.and[1].op").
//
// Semantics (the condition never evaluates to SQL NULL, so `not` is an exact
// complement): a comparison with a missing value — SQL NULL or an absent JSON
// key — is false, except `ne`, which is true there (ne is `not eq`).
//   eq, ne            equality; JSON paths compare JSON values (5 = 5.0, "5" ≠ 5)
//   gt, gte, lt, lte  order; on JSON paths numbers with numbers, strings with strings
//   in                equal to one of the values of a (possibly empty) array
//   exists            true: the JSON key is present (even with null); false: absent
//   contains          text: case-insensitive substring; reasons: some reason
//                     contains it; JSON: a string contains it, an array has an
//                     element that contains (strings) or equals it, an object
//                     or array value is contained (jsonb @>)
//
// Pure: no I/O, no threads; any thread may call it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include "daemon/errors.h"
#include "daemon/sql_params.h"

namespace xrayd {

// What a query lists. Each target's FROM clause uses fixed aliases, which the
// compiled condition refers to:
//   kExecutions   executions e
//   kSteps        steps s JOIN executions e
//   kEvaluations  evaluations v JOIN steps s JOIN executions e
enum class QueryTarget { kExecutions, kSteps, kEvaluations };

// "executions" | "steps" | "evaluations".
std::optional<QueryTarget> query_target_named(std::string_view name);

inline constexpr std::size_t kMaxPathKeys = 8;        // JSON keys after the column
inline constexpr std::size_t kMaxFilterDepth = 16;    // nesting of and/or/not
inline constexpr std::size_t kMaxFilterLeaves = 256;  // comparisons in one filter
inline constexpr std::size_t kMaxInValues = 1000;     // elements of an `in` array

// Compiles `where` into a SQL boolean expression over the target's aliases,
// adding its values to `params`. A null `where` matches everything ("TRUE").
// `field` is where `where` sits in the request body, for error paths.
// Error: kBadQuery naming the offending element's path and saying what was
// expected.
[[nodiscard]] boost::system::result<std::string, xray::InputError> compile_filter(
    QueryTarget target, const boost::json::value& where, SqlParams& params,
    std::string_view field = "where");

}  // namespace xrayd
