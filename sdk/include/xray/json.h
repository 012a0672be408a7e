// xray::Json: a small JSON value for the inputs, outputs, filters, scores and
// metadata that an application records.
//
// It is built from C++ values and initializer lists and only ever serialised
// (the SDK never parses JSON):
//
//   xray::Json input = {{"price", 19.99}, {"tags", {"a", "b"}}, {"inStock", true}};
//   // → {"price":19.99,"tags":["a","b"],"inStock":true}
//
// Brace rule (the same as nlohmann::json): a braced list whose elements are
// all two-element lists starting with a string is an object; any other braced
// list is an array. So `{"a", "b"}` is an array, `{{"a", 1}}` is an object.
// When you mean an array of pairs, say so with Json::array({...}). Beware that
// `Json copy{other}` makes a one-element array; write `Json copy = other`.
//
// Objects keep insertion order; set() replaces an existing key. Numbers are
// int64, uint64 or double. A value owns all its data: a plain value type, safe
// to move between threads, not safe to mutate from two threads at once.
//
// Serialisation (dump) always yields valid UTF-8 JSON that xrayd accepts:
// control characters are escaped, invalid UTF-8 bytes become U+FFFD, and
// U+0000 (which PostgreSQL's jsonb cannot store, DESIGN §3) becomes U+FFFD;
// NaN and infinities become null.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace xray {

class Json;

namespace detail {
template <class T>
concept UnsignedNotBool = std::unsigned_integral<T> && !std::same_as<T, bool>;
template <class T>
concept ConvertibleToJson = std::constructible_from<Json, const T&>;
}  // namespace detail

class Json {
 public:
  enum class Type : std::uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };
  using Array = std::vector<Json>;
  using Member = std::pair<std::string, Json>;
  using Object = std::vector<Member>;

  Json() noexcept = default;  // null
  Json(std::nullptr_t) noexcept {}
  Json(bool b) noexcept : v_(b) {}
  template <std::signed_integral T>
  Json(T n) noexcept : v_(static_cast<std::int64_t>(n)) {}
  template <detail::UnsignedNotBool T>
  Json(T n) noexcept : v_(static_cast<std::uint64_t>(n)) {}
  template <std::floating_point T>
  Json(T d) noexcept : v_(static_cast<double>(d)) {}
  Json(const char* s) : v_(std::string(s == nullptr ? "" : s)) {}
  Json(std::string s) noexcept : v_(std::move(s)) {}
  Json(std::string_view s) : v_(std::string(s)) {}
  Json(Array a) noexcept : v_(std::move(a)) {}
  Json(Object o) noexcept : v_(std::move(o)) {}
  // Array or object, by the brace rule above.
  Json(std::initializer_list<Json> items);
  // Any vector of convertible values becomes an array.
  template <detail::ConvertibleToJson T>
  Json(const std::vector<T>& items) : v_(Array(items.begin(), items.end())) {}
  // A string-keyed map becomes an object (in the map's order).
  template <detail::ConvertibleToJson T>
  Json(const std::map<std::string, T>& items) : v_(Object(items.begin(), items.end())) {}

  static Json array(std::initializer_list<Json> items = {}) { return Json(Array(items)); }
  static Json object() { return Json(Object{}); }

  Type type() const noexcept { return static_cast<Type>(v_.index()); }
  bool is_null() const noexcept { return type() == Type::kNull; }
  bool is_object() const noexcept { return type() == Type::kObject; }
  bool is_array() const noexcept { return type() == Type::kArray; }
  bool is_string() const noexcept { return type() == Type::kString; }
  bool is_number() const noexcept {
    return type() == Type::kInt || type() == Type::kUint || type() == Type::kDouble;
  }

  // Typed access; each returns the fallback when the value has another type.
  bool as_bool(bool fallback = false) const noexcept;
  double as_double(double fallback = 0) const noexcept;           // any number
  std::int64_t as_int(std::int64_t fallback = 0) const noexcept;  // int, or uint that fits
  const std::string& as_string() const noexcept;                  // "" when not a string
  const Array& as_array() const noexcept;                         // empty when not an array
  const Object& as_object() const noexcept;                       // empty when not an object

  // Sets `key` in an object, turning a null value into an empty object first;
  // replaces an existing member of that name. On a non-object, non-null value
  // the value becomes an object holding only `key`.
  Json& set(std::string key, Json value);
  // Appends to an array, turning any non-array value into an empty array first.
  Json& push_back(Json value);
  // The member named `key`, or nullptr (also when this is not an object).
  const Json* find(std::string_view key) const noexcept;
  // Elements of an array or members of an object; 0 otherwise.
  std::size_t size() const noexcept;

  // Compact JSON text (see the header comment for what is replaced).
  std::string dump() const;
  // Appends the compact JSON text to `out`.
  void dump_to(std::string& out) const;

  friend bool operator==(const Json& a, const Json& b) { return a.v_ == b.v_; }

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Array,
               Object>
      v_;
};

// Appends `s` to `out` as a JSON string literal (quotes included), with the
// replacements described above. Exposed for the snapshot serialiser and tests.
void append_json_string(std::string& out, std::string_view s);

}  // namespace xray
