// Cursor: the opaque `cursor` / `next_cursor` strings of the explorer's keyset
// pagination (docs/api.md).
//
// A cursor is the sort key of the last row of a page: the execution's
// started_at (microseconds since the epoch), its app and id, and for step and
// evaluation rows the step index and the evaluation's position. The next page
// holds the rows strictly after that key in the order
// (started_at DESC, app, id, step_index, position), so rows inserted
// meanwhile never shift it: a newer row sorts before the key, and no row is
// repeated or skipped.
//
// Encoding: base64url (no padding) of the JSON array
// ["e"|"s"|"v", started_at_us, app, id(, step_index(, position))]. Clients
// must treat it as opaque. It carries no secret and no signature: a cursor is
// only a position, and every value in it is bound as a SQL parameter, so a
// forged one can only move the page. decode_cursor() checks its form
// strictly, so a damaged or foreign cursor is a 400 naming `cursor`.
// Pure: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "daemon/errors.h"

namespace xrayd {

enum class CursorKind : char {
  kExecution = 'e',   // executions: (started_at, app, id)
  kStep = 's',        // steps: ... + step_index
  kEvaluation = 'v',  // evaluations: ... + step_index, position
};

struct CursorKey {
  CursorKind kind = CursorKind::kExecution;
  std::int64_t started_at_us = 0;
  std::string app;
  std::string id;
  std::int64_t step_index = 0;  // kStep and kEvaluation
  std::int64_t position = 0;    // kEvaluation

  bool operator==(const CursorKey&) const = default;
};

std::string encode_cursor(const CursorKey& key);

// Error: kBadQuery with field "cursor" when `text` is not a cursor of `kind`
// made by encode_cursor (wrong alphabet, length, JSON, shape or value range).
boost::system::result<CursorKey, xray::InputError> decode_cursor(std::string_view text,
                                                                 CursorKind kind);

// base64url without padding (RFC 4648 §5), used by the cursor.
std::string base64url_encode(std::string_view bytes);
// The bytes, or nullopt when `text` is not base64url without padding (or has
// non-zero bits past its last byte, so each byte string has one spelling).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace xrayd
