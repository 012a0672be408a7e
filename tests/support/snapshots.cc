#include "tests/support/snapshots.h"

#include <boost/json.hpp>

namespace xray::testing {

std::string make_snapshot(const SnapshotSpec& spec) {
  namespace json = boost::json;
  json::array evaluations;
  int kept = 0;
  for (int i = 0; i < spec.candidates; ++i) {
    double price = 12.5 + 7 * i;
    bool passed = price <= 40;
    kept += passed ? 1 : 0;
    json::object e{{"id", "B00" + std::to_string(40 + i)}, {"passed", passed}};
    if (!passed) {
      e["reasons"] = json::array{"price " + std::to_string(price).substr(0, 5) + " > 40"};
    }
    e["scores"] = json::object{{"rating", 3.5 + 0.1 * i}};
    evaluations.push_back(std::move(e));
  }
  json::array steps{
      json::object{{"name", "keyword_generation"},
                   {"status", "completed"},
                   {"started_at", "2026-11-22T10:00:00.123Z"},
                   {"ended_at", "2026-11-22T10:00:00.456Z"},
                   {"input", json::object{{"title", "Adjustable Aluminum Laptop Stand"}}},
                   {"output", json::object{{"keywords", json::array{"laptop stand", "riser"}}}},
                   {"reasoning", "extracted material and product type"}},
      json::object{{"name", "filter_candidates"},
                   {"status", "completed"},
                   {"started_at", "2026-11-22T10:00:01Z"},
                   {"ended_at", "2026-11-22T10:00:01.250Z"},
                   {"input", json::object{{"candidates", spec.candidates}}},
                   {"output", json::object{{"kept", kept}}},
                   {"filters", json::object{{"price", json::object{{"min", 10}, {"max", 40}}},
                                            {"minRating", 4.0}}},
                   {"evaluations", std::move(evaluations)},
                   {"reasoning", spec.reasoning},
                   {"metadata", json::object{{"filteredCount", spec.candidates - kept}}}},
      json::object{{"name", "select_competitor"},
                   {"status", "completed"},
                   {"selection", json::object{{"id", "B0041"}}},
                   {"reasoning", "highest score among kept candidates"}},
  };
  for (int i = 0; i < spec.extra_steps; ++i) {
    steps.push_back(json::object{{"name", "pad_" + std::to_string(i)}});
  }
  json::object snapshot{
      {"id", spec.id},
      {"app", spec.app},
      {"pipeline", spec.pipeline},
      {"environment", "test"},
      {"status", spec.status},
      {"started_at", "2026-11-22T10:00:00.123Z"},
      {"metadata", json::object{{"useCase", "competitor-search"}, {"productId", "B0C1234"}}},
      {"steps", std::move(steps)},
  };
  if (spec.status != "running") {
    snapshot["ended_at"] = "2026-11-22T10:00:02.456Z";
    snapshot["result"] = json::object{{"selected", "B0041"}};
  }
  return json::serialize(snapshot);
}

std::string make_snapshot(const std::string& id) {
  SnapshotSpec spec;
  spec.id = id;
  return make_snapshot(spec);
}

}  // namespace xray::testing
