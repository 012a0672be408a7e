// Url: the pieces of a request target the explorer reads: path segments and
// query parameters, percent-decoded; and percent-encoding for the links it
// writes (execution_url).
//
// Pure: any thread. Decoding fails on a malformed escape, on bytes that are
// not UTF-8 and on U+0000 (PostgreSQL text cannot hold it), so what comes out
// can be bound to SQL as text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

#include "daemon/errors.h"

namespace xrayd {

// "%2F" → "/", and in a query component (`plus_is_space`) "+" → " ".
// nullopt for a bad escape, invalid UTF-8 or a NUL byte.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Escapes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~), so the
// result is one path segment that is also safe inside a JSON string.
std::string percent_encode(std::string_view text);

// "/v1/executions/<app>/<id>" with both segments encoded.
std::string execution_url(std::string_view app, std::string_view id);

struct ParsedTarget {
  std::vector<std::string> segments;  // "/v1/executions/a%2Fb/x" → {"v1", "executions", "a/b", "x"}
  std::vector<std::pair<std::string, std::string>> params;  // in order, repeats kept
};

// Splits a request target ("/path?query") into decoded segments and
// parameters. Empty segments (a doubled or trailing slash) are dropped.
// Error: kBadQuery naming "path" or the parameter whose name or value is bad.
boost::system::result<ParsedTarget, xray::InputError> parse_target(std::string_view target);

// True if `text` is valid UTF-8 without U+0000.
bool is_storable_text(std::string_view text);

}  // namespace xrayd
