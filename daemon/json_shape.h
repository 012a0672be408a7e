// JsonShape: the shape of a set of JSON documents — every field path with the
// JSON types seen there, how many documents have it and when it was last
// seen — for GET /v1/steps/shape (autocompletion of filter paths).
//
// Paths: object members are joined with "." ("price.max"), array elements
// appear as "[]" ("candidates[].id"); the document's root is not a field.
// Bounded: at most kMaxFields distinct paths (then truncated() is true) and
// kMaxDepth levels below the root. Pure: a value, one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json/array.hpp>

#include "daemon/timestamp.h"

namespace xrayd {

class JsonShape {
 public:
  static constexpr std::size_t kMaxFields = 2000;
  static constexpr std::size_t kMaxDepth = 16;

  // Adds the fields of one document (JSON text) of `section` ("input", ...),
  // seen at `seen_at`. Text that is not JSON is skipped. Documents of one
  // `document_id` count once per path, whatever the number of occurrences.
  void add(std::size_t section, std::string_view json_text, std::uint64_t document_id,
           Timestamp seen_at);

  // [{"section", "path", "types", "last_seen", "count"}], by section then path.
  // `section_names[i]` names section i.
  boost::json::array fields(const std::string_view* section_names) const;

  bool truncated() const { return truncated_; }

 private:
  struct Info {
    unsigned types = 0;  // bit per JSON kind, in kTypeNames order
    std::uint64_t count = 0;
    std::uint64_t last_document = UINT64_MAX;
    Timestamp last_seen{};
  };
  void note(std::size_t section, const std::string& path, unsigned type_bit,
            std::uint64_t document_id, Timestamp seen_at);

  std::map<std::pair<std::size_t, std::string>, Info> fields_;
  bool truncated_ = false;
};

}  // namespace xrayd
