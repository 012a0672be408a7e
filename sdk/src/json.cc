#include "xray/json.h"

#include <charconv>
#include <cmath>

namespace xray {
namespace {

const std::string kEmptyString;
const Json::Array kEmptyArray;
const Json::Object kEmptyObject;

bool is_member_like(const Json& j) {
  return j.is_array() && j.size() == 2 && j.as_array()[0].is_string();
}

void append_replacement(std::string& out) { out.append("\xEF\xBF\xBD"); }  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid
// (overlong, surrogate, above U+10FFFF, truncated).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

template <class T>
void append_integer(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out.append("null");  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest text that round-trips
  out.append(buf, r.ptr);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path: copy a run of printable ASCII that needs no escaping at once.
    std::size_t run = i;
    while (run < s.size()) {
      auto c = static_cast<unsigned char>(s[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8_sequence_length(s, i);
      if (n == 0) {
        append_replacement(out);
        ++i;
      } else {
        out.append(s.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case 0:
        append_replacement(out);
        break;  // jsonb cannot store U+0000
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

Json::Json(std::initializer_list<Json> items) {
  bool object = items.size() > 0;
  for (const Json& item : items) {
    if (!is_member_like(item)) {
      object = false;
      break;
    }
  }
  if (!object) {
    v_ = Array(items);
    return;
  }
  v_ = Object{};
  std::get<Object>(v_).reserve(items.size());
  for (const Json& item : items) {
    const Array& pair = item.as_array();
    set(pair[0].as_string(), pair[1]);  // a repeated key keeps the last value, as in JSON parsers
  }
}

bool Json::as_bool(bool fallback) const noexcept {
  const bool* b = std::get_if<bool>(&v_);
  return b != nullptr ? *b : fallback;
}

double Json::as_double(double fallback) const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&v_)) return static_cast<double>(*u);
  if (const auto* d = std::get_if<double>(&v_)) return *d;
  return fallback;
}

std::int64_t Json::as_int(std::int64_t fallback) const noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  if (const auto* u = std::get_if<std::uint64_t>(&v_)) {
    if (*u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(*u);
  }
  return fallback;
}

const std::string& Json::as_string() const noexcept {
  const auto* s = std::get_if<std::string>(&v_);
  return s != nullptr ? *s : kEmptyString;
}

const Json::Array& Json::as_array() const noexcept {
  const auto* a = std::get_if<Array>(&v_);
  return a != nullptr ? *a : kEmptyArray;
}

const Json::Object& Json::as_object() const noexcept {
  const auto* o = std::get_if<Object>(&v_);
  return o != nullptr ? *o : kEmptyObject;
}

Json& Json::set(std::string key, Json value) {
  if (!is_object()) v_ = Object{};
  auto& members = std::get<Object>(v_);
  for (auto& [k, v] : members) {
    if (k == key) {
      v = std::move(value);
      return *this;
    }
  }
  members.emplace_back(std::move(key), std::move(value));
  return *this;
}

Json& Json::push_back(Json value) {
  if (!is_array()) v_ = Array{};
  std::get<Array>(v_).push_back(std::move(value));
  return *this;
}

const Json* Json::find(std::string_view key) const noexcept {
  for (const auto& [k, v] : as_object()) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::size_t Json::size() const noexcept {
  if (is_array()) return as_array().size();
  if (is_object()) return as_object().size();
  return 0;
}

std::string Json::dump() const {
  std::string out;
  dump_to(out);
  return out;
}

void Json::dump_to(std::string& out) const {
  switch (type()) {
    case Type::kNull:
      out.append("null");
      break;
    case Type::kBool:
      out.append(std::get<bool>(v_) ? "true" : "false");
      break;
    case Type::kInt:
      append_integer(out, std::get<std::int64_t>(v_));
      break;
    case Type::kUint:
      append_integer(out, std::get<std::uint64_t>(v_));
      break;
    case Type::kDouble:
      append_double(out, std::get<double>(v_));
      break;
    case Type::kString:
      append_json_string(out, std::get<std::string>(v_));
      break;
    case Type::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Json& item : std::get<Array>(v_)) {
        if (!first) out.push_back(',');
        first = false;
        item.dump_to(out);
      }
      out.push_back(']');
      break;
    }
    case Type::kObject: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, value] : std::get<Object>(v_)) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, key);
        out.push_back(':');
        value.dump_to(out);
      }
      out.push_back('}');
      break;
    }
  }
}

}  // namespace xray
