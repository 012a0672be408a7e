#include "daemon/commit_notice.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace xrayd {

const std::string& commit_notice_sql() {
  // Chunk k holds the pairs whose running byte offset (in the order app, id)
  // starts in [k, k+1) × kCommitNoticeChunkBytes, so a chunk's payload is
  // under that plus one pair plus brackets: below 8000 bytes. The size of a
  // pair counts its JSON escapes and json_agg's ", " separator.
  static const std::string kSql =
      std::string("SELECT pg_notify('") + kCommitChannel +
      "', json_agg(json_build_array(app, id) ORDER BY app, id)::text)"
      " FROM (SELECT app, id, (sum(size) OVER (ORDER BY app, id) - size) / " +
      std::to_string(kCommitNoticeChunkBytes) +
      " AS chunk FROM (SELECT app, id, octet_length(json_build_array(app, id)::text) + 2 AS size"
      " FROM xray_stage_winners) sized) chunked GROUP BY chunk";
  return kSql;
}

std::vector<std::pair<std::string, std::string>> parse_commit_notice(std::string_view payload) {
  std::vector<std::pair<std::string, std::string>> pairs;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(payload, ec);
  const boost::json::array* a = ec ? nullptr : v.if_array();
  if (a == nullptr) return pairs;
  pairs.reserve(a->size());
  for (const auto& element : *a) {
    const boost::json::array* pair = element.if_array();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() ||
        !(*pair)[1].is_string()) {
      return {};
    }
    pairs.emplace_back(std::string((*pair)[0].get_string()), std::string((*pair)[1].get_string()));
  }
  return pairs;
}

}  // namespace xrayd
