// SqlParams: the bind parameters of one SQL statement as it is being built.
//
// Every value that reaches SQL from a request goes through add(), which
// stores the text and returns the placeholder ($1, $2, ...) with an explicit
// cast, so the statement text holds only placeholders, allow-listed column
// expressions and SQL written here. The values go to PostgreSQL separately
// (PQexecParams, text format). A plain value: one thread at a time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace xrayd {

class SqlParams {
 public:
  // Adds `value` and returns "$n::<type>", e.g. "$3::text". `type` is one of
  // our own SQL type names, never request text.
  std::string add(std::string value, std::string_view type) {
    values_.push_back(std::move(value));
    return "$" + std::to_string(values_.size()) + "::" + std::string(type);
  }

  const std::vector<std::string>& values() const { return values_; }
  std::vector<std::string> take() { return std::move(values_); }
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<std::string> values_;
};

}  // namespace xrayd
