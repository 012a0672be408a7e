// A synthetic product catalog for the demo: the products whose competitors
// we look for, and the candidates a search returns for a set of keywords.
// Deterministic for a given random generator; no I/O.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace demo {

struct Product {
  std::string id;
  std::string title;
  std::string category;
  std::string department;
  double price = 0;
  double rating = 0;
  int reviews = 0;
};

// The seller's own products, whose competitors the pipeline selects.
const std::vector<Product>& own_products();

// About `count` candidates for `keywords`, shaped like a marketplace search:
// mostly the product's own category, some neighbours, and — when the
// keywords mention phones — many phone cases with huge review counts.
std::vector<Product> search_catalog(const Product& product,
                                    const std::vector<std::string>& keywords, int count,
                                    std::mt19937_64& rng);

}  // namespace demo
