#include "competitor_pipeline.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace demo {
namespace {

struct Rules {
  double min_rating = 4.0;
  int min_reviews = 100;
};

// Hubs are matched only against established sellers: these runs eliminate
// nearly every candidate, which is worth seeing in the data too.
Rules rules_for(const Product& p) {
  if (p.category == "USB Hubs") return {4.5, 1000};
  return {};
}
constexpr double kPriceBandLow = 0.6;   // × our price
constexpr double kPriceBandHigh = 1.4;  // × our price
const std::vector<std::pair<std::string, double>> kWeights = {
    {"relevance", 0.35}, {"rating", 0.25}, {"reviews", 0.25}, {"price", 0.15}};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string money(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

double round_to(double v, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

// The stand-in LLM: noun phrases from the category, plus device-compatibility
// queries when it runs hot on a title that lists devices.
std::vector<std::string> generate_keywords(const Product& p, double temperature) {
  static const std::map<std::string, std::string> kSingular = {{"Laptop Stands", "laptop stand"},
                                                               {"Wireless Mice", "wireless mouse"},
                                                               {"USB Hubs", "usb-c hub"},
                                                               {"Desk Lamps", "desk lamp"}};
  auto known = kSingular.find(p.category);
  std::string category = known != kSingular.end() ? known->second : lower(p.category);
  std::vector<std::string> k = {category, lower(p.department) + " " + category};
  auto words = lower(p.title);
  if (words.find("adjustable") != std::string::npos) k.push_back("adjustable " + category);
  if (temperature > 1.0 && words.find("iphone") != std::string::npos) {
    k = {"iphone compatible", "iphone stand", category};  // drift: the device list wins
  }
  return k;
}

// Share of keyword tokens found in the title: what the ranker calls relevance.
double relevance(const std::vector<std::string>& keywords, const std::string& title) {
  std::string t = lower(title);
  int tokens = 0;
  int found = 0;
  for (const auto& k : keywords) {
    std::istringstream in(k);
    for (std::string w; in >> w;) {
      ++tokens;
      if (t.find(w) != std::string::npos) ++found;
    }
  }
  return tokens == 0 ? 0 : static_cast<double>(found) / tokens;
}

xray::Json describe(const Product& c) {
  return {{"title", c.title},
          {"category", c.category},
          {"price", c.price},
          {"rating", c.rating},
          {"reviews", c.reviews}};
}

}  // namespace

RunOutcome run_competitor_selection(xray::Client& client, const Product& product, int run,
                                    std::mt19937_64& rng, const PipelineOptions& options) {
  std::uniform_real_distribution<double> unit(0, 1);
  RunOutcome outcome;
  outcome.product_title = product.title;
  xray::Execution execution =
      client.start_execution("competitor-selection", {{"useCase", "competitor-search"},
                                                      {"productId", product.id},
                                                      {"productTitle", product.title},
                                                      {"run", run}});
  outcome.execution_id = execution.id();

  // 1. Keywords from the product (an LLM call in real life).
  const bool hot = unit(rng) < options.drift_share;
  const double temperature =
      hot ? round_to(1.05 + 0.2 * unit(rng), 2) : round_to(0.2 + 0.6 * unit(rng), 2);
  std::vector<std::string> keywords = generate_keywords(product, temperature);
  {
    xray::Step step = execution.step("generate_keywords");
    step.input({{"title", product.title}, {"category", product.category}})
        .output({{"keywords", keywords}})
        .metadata("model", "kw-gen-v2")
        .metadata("temperature", temperature)
        .reasoning("noun phrases of the category and title, expanded with device compatibility");
  }

  // 2. Candidate search.
  std::vector<Product> candidates;
  {
    xray::Step step = execution.step("search_candidates");
    step.input({{"keywords", keywords}, {"limit", options.candidates}});
    if (unit(rng) < options.failure_share) {
      step.error(
          {{"message", "catalog search timed out after 2000 ms"}, {"backend", "catalog-v7"}});
      step.end();
      execution.fail({{"message", "candidate search failed"}, {"step", "search_candidates"}});
      outcome.failed = true;
      return outcome;
    }
    candidates = search_catalog(product, keywords, options.candidates, rng);
    std::map<std::string, int> by_category;
    for (const auto& c : candidates) ++by_category[c.category];
    step.output({{"count", candidates.size()}, {"byCategory", by_category}})
        .metadata("index", "catalog-v7")
        .metadata("latencyMs", static_cast<int>(40 + 80 * unit(rng)));
  }

  // 3. Filters, one evaluation per candidate, naming every rule it broke.
  const Rules rules = rules_for(product);
  const double min_price = round_to(product.price * kPriceBandLow, 2);
  const double max_price = round_to(product.price * kPriceBandHigh, 2);
  std::vector<Product> kept;
  {
    xray::Step step = execution.step("apply_filters");
    step.input({{"candidates", candidates.size()}})
        .filters({{"price", {{"min", min_price}, {"max", max_price}}},
                  {"minRating", rules.min_rating},
                  {"minReviews", rules.min_reviews},
                  // Department-level matching is the lenient rule that lets
                  // phone cases (Electronics) pass for a laptop stand.
                  {"category", {{"mode", "department"}, {"department", product.department}}}});
    std::map<std::string, int> dropped_by;
    std::vector<xray::Evaluation> evaluations;
    for (const auto& c : candidates) {
      xray::Evaluation e{.id = c.id, .metadata = describe(c)};
      if (c.price > max_price) {
        e.reasons.push_back("price " + money(c.price) + " > " + money(max_price));
      }
      if (c.price < min_price) {
        e.reasons.push_back("price " + money(c.price) + " < " + money(min_price));
      }
      if (c.rating < rules.min_rating) {
        e.reasons.push_back("rating " + fixed(c.rating, 1) + " < " + fixed(rules.min_rating, 1));
      }
      if (c.reviews < rules.min_reviews) {
        e.reasons.push_back("reviews " + std::to_string(c.reviews) + " < " +
                            std::to_string(rules.min_reviews));
      }
      if (c.department != product.department) {
        e.reasons.push_back("category '" + c.category + "' (" + c.department +
                            ") outside department '" + product.department + "'");
      }
      for (const auto& r : e.reasons) ++dropped_by[r.substr(0, r.find(' '))];
      e.passed = e.reasons.empty();
      if (e.passed) kept.push_back(c);
      evaluations.push_back(std::move(e));
    }
    step.evaluations(std::move(evaluations));
    std::string why =
        "kept " + std::to_string(kept.size()) + " of " + std::to_string(candidates.size());
    for (const auto& [rule, n] : dropped_by) why += "; " + std::to_string(n) + " failed " + rule;
    step.output({{"kept", kept.size()}, {"dropped", candidates.size() - kept.size()}})
        .reasoning(why)
        .metadata("filteredCount", candidates.size() - kept.size());
  }
  if (kept.empty()) {
    execution.fail({{"message", "no candidate passed the filters"}});
    outcome.failed = true;
    return outcome;
  }

  // 4. Ranking with a score breakdown per candidate.
  struct Ranked {
    const Product* p;
    std::map<std::string, double> parts;
    double total = 0;
  };
  std::vector<Ranked> ranked;
  {
    xray::Step step = execution.step("rank_candidates");
    step.input({{"candidates", kept.size()}, {"keywords", keywords}});
    std::vector<xray::Evaluation> evaluations;
    for (const auto& c : kept) {
      Ranked r{&c, {}, 0};
      r.parts["relevance"] = relevance(keywords, c.title);
      r.parts["rating"] = std::clamp((c.rating - 3.0) / 2.0, 0.0, 1.0);
      r.parts["reviews"] = std::clamp(std::log10(1.0 + c.reviews) / 5.0, 0.0, 1.0);
      r.parts["price"] =
          std::clamp(1.0 - std::abs(c.price - product.price) / product.price, 0.0, 1.0);
      xray::Evaluation e{.id = c.id, .passed = true};
      for (const auto& [name, weight] : kWeights) {
        double weighted = round_to(weight * r.parts[name], 3);
        r.total += weighted;
        e.scores.emplace_back(name, weighted);
      }
      r.total = round_to(r.total, 3);
      e.scores.emplace_back("total", r.total);
      evaluations.push_back(std::move(e));
      ranked.push_back(std::move(r));
    }
    std::sort(ranked.begin(), ranked.end(),
              [](const Ranked& a, const Ranked& b) { return a.total > b.total; });
    xray::Json top = xray::Json::array();
    for (std::size_t i = 0; i < ranked.size() && i < 5; ++i) {
      top.push_back({{"id", ranked[i].p->id}, {"total", ranked[i].total}});
    }
    xray::Json weights = xray::Json::object();
    for (const auto& [name, weight] : kWeights) weights.set(name, weight);
    step.evaluations(std::move(evaluations))
        .output({{"top", top}})
        .metadata("weights", weights)
        .reasoning("weighted sum; relevance is the share of generated keyword tokens in the title");
  }

  // 5. Selection, with the reason.
  const Ranked& best = ranked.front();
  {
    xray::Step step = execution.step("select_competitor");
    std::string why = "highest total score " + fixed(best.total, 3) + " of " +
                      std::to_string(ranked.size()) + " ranked:";
    for (const auto& [name, weight] : kWeights) {
      why += " " + name + " " + fixed(weight * best.parts.at(name), 3);
    }
    step.input({{"ranked", ranked.size()}})
        .selection({{"id", best.p->id},
                    {"title", best.p->title},
                    {"category", best.p->category},
                    {"price", best.p->price},
                    {"totalScore", best.total}})
        .reasoning(why);
  }
  outcome.selected_title = best.p->title;
  outcome.selected_category = best.p->category;
  outcome.bad_match = best.p->category != product.category;
  execution.complete({{"selectedId", best.p->id},
                      {"selectedTitle", best.p->title},
                      {"selectedCategory", best.p->category}});
  return outcome;
}

}  // namespace demo
