#include "daemon/cursor.h"

#include <array>
#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "daemon/snapshot_parser.h"
#include "daemon/timestamp.h"
#include "daemon/url.h"

namespace xrayd {
namespace {

namespace json = boost::json;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// Two identifiers of kMaxIdentifierBytes, JSON-escaped at worst six bytes per
// byte, and numbers: anything longer is not ours.
constexpr std::size_t kMaxCursorChars = 4096;

xray::InputError bad_cursor(const std::string& why) {
  return {xray::Errc::kBadQuery, "cursor",
          "cursor is not valid (" + why +
              "); pass next_cursor "
              "from a response of the same endpoint unchanged"};
}

std::size_t fields_of(CursorKind kind) {
  switch (kind) {
    case CursorKind::kExecution:
      return 4;
    case CursorKind::kStep:
      return 5;
    case CursorKind::kEvaluation:
      return 6;
  }
  return 0;
}

bool identifier(const json::value& v, std::string& out) {
  const json::string* s = v.if_string();
  if (s == nullptr || s->empty() || s->size() > kMaxIdentifierBytes) return false;
  if (!is_storable_text(*s)) return false;
  out.assign(s->data(), s->size());
  return true;
}

bool index(const json::value& v, std::int64_t& out) {
  if (!v.is_int64() && !v.is_uint64()) return false;
  if (v.is_uint64() || v.get_int64() < 0 ||
      v.get_int64() > std::numeric_limits<std::int32_t>::max()) {
    return false;
  }
  out = v.get_int64();
  return true;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16) |
                            (std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                            std::uint32_t(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  static const std::array<int, 256> kValues = [] {
    std::array<int, 256> values{};
    values.fill(-1);
    for (int i = 0; i < 64; ++i) values[static_cast<unsigned char>(kAlphabet[i])] = i;
    return values;
  }();
  // A single leftover character cannot encode a byte.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t bits = 0;
  int held = 0;
  for (char c : text) {
    const int v = kValues[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out.push_back(static_cast<char>((bits >> held) & 0xFF));
    }
  }
  // The unused low bits of the last character must be zero, so that each
  // cursor has one spelling.
  if ((bits & ((1u << held) - 1)) != 0) return std::nullopt;
  return out;
}

std::string encode_cursor(const CursorKey& key) {
  json::array a{std::string(1, static_cast<char>(key.kind)), key.started_at_us, key.app, key.id};
  if (key.kind != CursorKind::kExecution) a.push_back(key.step_index);
  if (key.kind == CursorKind::kEvaluation) a.push_back(key.position);
  return base64url_encode(json::serialize(a));
}

boost::system::result<CursorKey, xray::InputError> decode_cursor(std::string_view text,
                                                                 CursorKind kind) {
  if (text.empty() || text.size() > kMaxCursorChars) return bad_cursor("empty or too long");
  auto bytes = base64url_decode(text);
  if (!bytes) return bad_cursor("not base64url");
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec);
  if (ec) return bad_cursor("damaged");
  const json::array* a = v.if_array();
  if (a == nullptr || a->empty() || !(*a)[0].is_string()) return bad_cursor("damaged");
  const json::string& tag = (*a)[0].get_string();
  if (tag.size() != 1 || tag[0] != static_cast<char>(kind)) {
    return bad_cursor("it belongs to another kind of list");
  }
  if (a->size() != fields_of(kind)) return bad_cursor("damaged");
  CursorKey key;
  key.kind = kind;
  if (!(*a)[1].is_int64() || (*a)[1].get_int64() < epoch_micros(kMinTimestamp) ||
      (*a)[1].get_int64() > epoch_micros(kMaxTimestamp)) {
    return bad_cursor("damaged");
  }
  key.started_at_us = (*a)[1].get_int64();
  if (!identifier((*a)[2], key.app) || !identifier((*a)[3], key.id)) return bad_cursor("damaged");
  if (kind != CursorKind::kExecution && !index((*a)[4], key.step_index)) {
    return bad_cursor("damaged");
  }
  if (kind == CursorKind::kEvaluation && !index((*a)[5], key.position)) {
    return bad_cursor("damaged");
  }
  return key;
}

}  // namespace xrayd
