#include "catalog.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace demo {
namespace {

struct CategoryShape {
  std::string category;
  std::string department;
  std::vector<std::string> nouns;
  double price_low, price_high;
};

const std::vector<CategoryShape>& shapes() {
  static const std::vector<CategoryShape> kShapes = {
      {"Laptop Stands", "Electronics", {"Laptop Stand", "Laptop Riser", "Notebook Stand"}, 18, 65},
      {"Monitor Risers",
       "Office Products",
       {"Monitor Riser", "Monitor Stand", "Desk Shelf"},
       20,
       70},
      {"Tablet Stands", "Electronics", {"Tablet Stand", "iPad Holder", "Tablet Mount"}, 10, 40},
      {"Cell Phone Cases", "Electronics", {"iPhone 15 Case", "Phone Case", "iPhone Case"}, 6, 25},
      {"Wireless Mice",
       "Electronics",
       {"Wireless Mouse", "Bluetooth Mouse", "Silent Mouse"},
       9,
       45},
      {"USB Hubs", "Electronics", {"USB-C Hub", "USB 3.0 Hub", "Docking Station"}, 12, 90},
      {"Desk Lamps", "Home & Kitchen", {"LED Desk Lamp", "Architect Lamp", "Clamp Lamp"}, 15, 60},
  };
  return kShapes;
}

const std::vector<std::string> kBrands = {"Nulaxy",    "Rain Design", "OMOTON",        "Lamicall",
                                          "Soundance", "Spigen",      "OtterBox",      "Logitech",
                                          "Anker",     "TaoTronics",  "Amazon Basics", "UGREEN",
                                          "Benks",     "ESR",         "Twelve South"};
const std::vector<std::string> kAdjectives = {"Adjustable", "Aluminum", "Ergonomic",  "Foldable",
                                              "Portable",   "Slim",     "Shockproof", "Ventilated",
                                              "Heavy Duty", "Compact"};

const CategoryShape& shape_of(const std::string& category) {
  for (const auto& s : shapes()) {
    if (s.category == category) return s;
  }
  return shapes().front();
}

template <class T>
const T& pick(const std::vector<T>& v, std::mt19937_64& rng) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}

double round_price(double p) { return std::floor(p) + 0.99; }

Product make_candidate(const CategoryShape& shape, std::mt19937_64& rng) {
  Product p;
  char id[16];
  std::snprintf(id, sizeof id, "B0%08llX", static_cast<unsigned long long>(rng() & 0xFFFFFFFFull));
  p.id = id;
  p.category = shape.category;
  p.department = shape.department;
  p.title = pick(kBrands, rng) + " " + pick(kAdjectives, rng) + " " + pick(shape.nouns, rng);
  p.price =
      round_price(std::uniform_real_distribution<double>(shape.price_low, shape.price_high)(rng));
  p.rating = std::round(std::normal_distribution<double>(4.2, 0.35)(rng) * 10) / 10;
  p.rating = std::clamp(p.rating, 2.5, 5.0);
  // Review counts are heavy-tailed; phone cases sell by the ten thousand.
  double scale = shape.category == "Cell Phone Cases" ? 9.5 : 6.0;
  p.reviews = static_cast<int>(std::exp(std::normal_distribution<double>(scale, 1.3)(rng)));
  return p;
}

}  // namespace

const std::vector<Product>& own_products() {
  static const std::vector<Product> kProducts = {
      {"B0C1234567",
       "Adjustable Aluminum Laptop Stand for Desk, Compatible with MacBook, iPad, iPhone",
       "Laptop Stands", "Electronics", 32.99, 4.6, 1840},
      {"B0C2345678", "Ergonomic Wireless Mouse, Silent Click, 3 Adjustable DPI", "Wireless Mice",
       "Electronics", 19.99, 4.4, 920},
      {"B0C3456789", "USB-C Hub 7-in-1 with 4K HDMI, 100W PD, SD Card Reader", "USB Hubs",
       "Electronics", 39.99, 4.3, 2210},
      {"B0C4567890", "LED Desk Lamp with Wireless Charger, 5 Color Modes", "Desk Lamps",
       "Home & Kitchen", 36.99, 4.5, 640},
  };
  return kProducts;
}

std::vector<Product> search_catalog(const Product& product,
                                    const std::vector<std::string>& keywords, int count,
                                    std::mt19937_64& rng) {
  bool phone_keywords = std::any_of(keywords.begin(), keywords.end(), [](const std::string& k) {
    return k.find("iphone") != std::string::npos || k.find("phone") != std::string::npos;
  });
  std::vector<Product> out;
  for (int i = 0; i < count; ++i) {
    double r = std::uniform_real_distribution<double>(0, 1)(rng);
    const CategoryShape* shape = &shape_of(product.category);
    if (phone_keywords && r < 0.45) {
      shape = &shape_of("Cell Phone Cases");
    } else if (r < 0.7) {
      shape = &shape_of(product.category);
    } else {
      shape = &pick(shapes(), rng);  // the long tail of loosely related results
    }
    out.push_back(make_candidate(*shape, rng));
  }
  return out;
}

}  // namespace demo
