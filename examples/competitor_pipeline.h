// The demo's decision pipeline: find the best competitor of one of our
// products, recording every step with libxray.
//
//   generate_keywords → search_candidates → apply_filters → rank_candidates
//   → select_competitor
//
// The keyword generator is a stand-in for an LLM. When it runs hot
// (temperature above 1) on a title that lists compatible devices, it drifts
// to "iphone" queries; the lenient department-level category filter lets the
// resulting phone cases through, and ranking — relevance is measured against
// the generated keywords, not the product — picks a phone case as the
// competitor of a laptop stand. The recorded data shows each link of that
// chain (docs: examples/README.md). Any thread; one execution per call.
#pragma once

#include <random>
#include <string>

#include <xray/recorder.h>

#include "catalog.h"

namespace demo {

struct PipelineOptions {
  double drift_share = 0.15;    // runs whose keyword generator runs hot
  double failure_share = 0.02;  // runs whose search backend times out
  int candidates = 50;
};

struct RunOutcome {
  std::string execution_id;
  std::string product_title;
  std::string selected_title;  // empty when the run failed or selected nothing
  std::string selected_category;
  bool bad_match = false;  // selected from another category than the product's
  bool failed = false;
};

RunOutcome run_competitor_selection(xray::Client& client, const Product& product, int run,
                                    std::mt19937_64& rng, const PipelineOptions& options);

}  // namespace demo
