#include "daemon/json_shape.h"

#include <array>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace xrayd {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 6> kTypeNames = {"object", "array",   "string",
                                                        "number", "boolean", "null"};

unsigned type_bit(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      return 1u << 0;
    case json::kind::array:
      return 1u << 1;
    case json::kind::string:
      return 1u << 2;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return 1u << 3;
    case json::kind::bool_:
      return 1u << 4;
    case json::kind::null:
      return 1u << 5;
  }
  return 0;
}

}  // namespace

void JsonShape::note(std::size_t section, const std::string& path, unsigned bit,
                     std::uint64_t document_id, Timestamp seen_at) {
  auto key = std::make_pair(section, path);
  auto it = fields_.find(key);
  if (it == fields_.end()) {
    if (fields_.size() >= kMaxFields) {
      truncated_ = true;
      return;
    }
    it = fields_.emplace(std::move(key), Info{}).first;
  }
  Info& info = it->second;
  info.types |= bit;
  if (info.last_document != document_id) {
    info.last_document = document_id;
    ++info.count;
  }
  if (seen_at > info.last_seen) info.last_seen = seen_at;
}

void JsonShape::add(std::size_t section, std::string_view json_text, std::uint64_t document_id,
                    Timestamp seen_at) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 256;
  const json::value root = json::parse(json_text, ec, {}, options);
  if (ec) return;
  // Iterative walk: (value, path, depth below the root).
  struct Item {
    const json::value* value;
    std::string path;
    std::size_t depth;
  };
  std::vector<Item> stack{{&root, "", 0}};
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    if (item.depth > 0) note(section, item.path, type_bit(*item.value), document_id, seen_at);
    if (item.depth >= kMaxDepth) continue;
    if (const json::object* o = item.value->if_object()) {
      for (const auto& kv : *o) {
        std::string path =
            item.path.empty() ? std::string(kv.key()) : item.path + "." + std::string(kv.key());
        stack.push_back({&kv.value(), std::move(path), item.depth + 1});
      }
    } else if (const json::array* a = item.value->if_array()) {
      for (const auto& element : *a) {
        stack.push_back({&element, item.path + "[]", item.depth + 1});
      }
    }
  }
}

json::array JsonShape::fields(const std::string_view* section_names) const {
  json::array out;
  for (const auto& [key, info] : fields_) {
    json::array types;
    for (std::size_t i = 0; i < kTypeNames.size(); ++i) {
      if (info.types & (1u << i)) types.emplace_back(kTypeNames[i]);
    }
    out.push_back(json::object{{"section", section_names[key.first]},
                               {"path", key.second},
                               {"types", std::move(types)},
                               {"last_seen", format_rfc3339_ms(info.last_seen)},
                               {"count", info.count}});
  }
  return out;
}

}  // namespace xrayd
