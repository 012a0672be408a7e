#include "bench/snapshot_generator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

namespace xray::bench {
namespace {

// SplitMix64: tiny, fast, and the same sequence on every platform (the std
// distributions are not specified bit-for-bit, so they are not used).
class Rng {
 public:
  explicit Rng(std::uint64_t state) : state_(state) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0. The modulo bias (< n / 2^64) does not matter here.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  // Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  template <class T, std::size_t N>
  const T& pick(const std::array<T, N>& a) {
    return a[below(N)];
  }

 private:
  std::uint64_t state_;
};

// Independent streams per (seed, index, purpose).
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t index, std::uint64_t purpose) {
  Rng r(seed ^ (purpose << 56));
  return r.next() ^ (index * 0xD1B54A32D192ED03ULL);
}

struct Category {
  const char* name;
  std::array<const char*, 4> nouns;
  std::array<const char*, 6> features;
  std::array<const char*, 4> sizes;
};

constexpr std::array<Category, 8> kCategories{{
    {"water bottle",
     {"Water Bottle", "Sports Bottle", "Travel Flask", "Hydration Bottle"},
     {"Insulated", "Stainless Steel", "Leak-Proof", "BPA-Free", "Double-Wall", "Wide Mouth"},
     {"18 oz", "24 oz", "32 oz", "40 oz"}},
    {"yoga mat",
     {"Yoga Mat", "Exercise Mat", "Pilates Mat", "Fitness Mat"},
     {"Non-Slip", "Extra Thick", "Eco-Friendly TPE", "Foldable", "Alignment Lines", "Cushioned"},
     {"1/4 inch", "1/3 inch", "1/2 inch", "6 mm"}},
    {"desk lamp",
     {"Desk Lamp", "Reading Light", "Architect Lamp", "Task Light"},
     {"LED", "Dimmable", "USB-C Charging", "Eye-Caring", "Swing Arm", "Touch Control"},
     {"12\" shade", "15\" arm", "18\" arm", "compact"}},
    {"running shoes",
     {"Running Shoes", "Trail Runners", "Road Running Shoe", "Training Sneakers"},
     {"Lightweight", "Breathable Mesh", "Cushioned", "Wide Fit", "Carbon Plate", "Waterproof"},
     {"size 9", "size 10", "size 11", "size 8.5"}},
    {"coffee grinder",
     {"Coffee Grinder", "Burr Grinder", "Espresso Mill", "Hand Grinder"},
     {"Conical Burr", "Electric", "Stainless Steel", "40 Settings", "Quiet", "Anti-Static"},
     {"200 g", "250 g", "350 g", "compact"}},
    {"backpack",
     {"Backpack", "Laptop Backpack", "Travel Daypack", "Hiking Pack"},
     {"Water-Resistant", "Anti-Theft", "USB Port", "Lightweight", "Padded", "Carry-On"},
     {"20 L", "25 L", "30 L", "35 L"}},
    {"bluetooth speaker",
     {"Bluetooth Speaker", "Portable Speaker", "Wireless Speaker", "Party Speaker"},
     {"Waterproof IPX7", "24h Battery", "Deep Bass", "Stereo Pairing", "Rugged", "Compact"},
     {"10 W", "20 W", "30 W", "40 W"}},
    {"kitchen knife",
     {"Chef Knife", "Santoku Knife", "Kitchen Knife", "Utility Knife"},
     {"German Steel", "Damascus", "Full Tang", "Ergonomic Handle", "Razor Sharp", "Forged"},
     {"6 inch", "7 inch", "8 inch", "10 inch"}},
}};

// Brands include non-ASCII UTF-8 and an apostrophe so the daemon's string
// handling is exercised by every run, as real catalog data would.
constexpr std::array<const char*, 16> kBrands{
    "Hydro Peak", "Northfield", "Küchenwerk", "Aurora",       "Trailmark", "Lumos",
    "Verde & Co", "Zenfold",    "Brightline", "Olympus Gear", "Café Pro",  "Ironleaf",
    "Nordvik",    "Solace",     "O'Malley",   "Keystone"};

constexpr std::array<const char*, 4> kModels{"gpt-4o-mini", "claude-3-5-haiku", "gpt-4.1-mini",
                                             "llama-3.1-70b"};

constexpr std::array<const char*, 8> kKeywordAdds{"best",    "cheap",     "review",  "top rated",
                                                  "premium", "for women", "for men", "gift"};

// --- JSON text building. Plain appends: the generator must be much faster
// than the daemon it loads, and the output is fully controlled.

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// A fixed-point number: `v` units of 10^-decimals, e.g. (4999, 2) → "49.99".
void append_fixed(std::string& out, std::int64_t v, int decimals) {
  if (v < 0) {
    out += '-';
    v = -v;
  }
  std::int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  append_int(out, v / scale);
  if (decimals == 0) return;
  out += '.';
  std::int64_t frac = v % scale;
  for (std::int64_t d = scale / 10; d > 0; d /= 10) out += static_cast<char>('0' + (frac / d) % 10);
}

std::string fixed(std::int64_t v, int decimals) {
  std::string s;
  append_fixed(s, v, decimals);
  return s;
}

// RFC 3339 UTC with milliseconds, from Unix epoch milliseconds (Howard
// Hinnant's civil-from-days; no locale or time zone involved).
void append_time(std::string& out, std::int64_t epoch_ms) {
  std::int64_t days = epoch_ms / 86'400'000;
  std::int64_t ms_of_day = epoch_ms % 86'400'000;
  days += 719468;
  const std::int64_t era = days / 146097;
  const std::int64_t doe = days - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2);
  char buf[32];
  auto two = [](char* p, std::int64_t v) {
    p[0] = static_cast<char>('0' + v / 10);
    p[1] = static_cast<char>('0' + v % 10);
  };
  buf[0] = '"';
  two(buf + 1, y / 100);
  two(buf + 3, y % 100);
  buf[5] = '-';
  two(buf + 6, m);
  buf[8] = '-';
  two(buf + 9, d);
  buf[11] = 'T';
  two(buf + 12, ms_of_day / 3'600'000);
  buf[14] = ':';
  two(buf + 15, ms_of_day / 60'000 % 60);
  buf[17] = ':';
  two(buf + 18, ms_of_day / 1000 % 60);
  buf[20] = '.';
  buf[21] = static_cast<char>('0' + ms_of_day % 1000 / 100);
  two(buf + 22, ms_of_day % 100);
  buf[24] = 'Z';
  buf[25] = '"';
  out.append(buf, 26);
}

// UUIDv7 layout: 48-bit Unix ms, version 7, 12 random bits, variant 10, 62 random bits.
std::string uuid_v7(std::int64_t epoch_ms, Rng& rng) {
  const std::uint64_t hi =
      (static_cast<std::uint64_t>(epoch_ms) << 16) | 0x7000 | (rng.next() & 0x0FFF);
  const std::uint64_t lo = (rng.next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 60; i >= 0; i -= 4) {
    s += kHex[(hi >> i) & 0xF];
    if (i == 32 || i == 16) s += '-';
  }
  s += '-';
  for (int i = 60; i >= 0; i -= 4) {
    s += kHex[(lo >> i) & 0xF];
    if (i == 48) s += '-';
  }
  return s;
}

// Amazon-style product id: "B0" + 8 characters of [0-9A-Z].
std::string product_id(Rng& rng) {
  static constexpr char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string s = "B0";
  for (int i = 0; i < 8; ++i) s += kChars[rng.below(36)];
  return s;
}

struct Candidate {
  std::string id;
  std::string title;
  const char* brand = "";
  std::int64_t price_cents = 0;
  std::int64_t rating_tenths = 0;
  std::int64_t reviews = 0;
  // Filled in by the filter and rank steps.
  bool passed = false;
  std::int64_t relevance = 0;  // thousandths
  std::int64_t total = 0;      // thousandths
  std::int64_t rating_score = 0, price_score = 0, reviews_score = 0;
};

// Opens a step object up to and including its timestamps.
void open_step(std::string& out, const char* name, const char* status, std::int64_t start_ms,
               std::int64_t end_ms) {
  out += "{\"name\":\"";
  out += name;
  out += "\",\"status\":\"";
  out += status;
  out += "\",\"started_at\":";
  append_time(out, start_ms);
  out += ",\"ended_at\":";
  append_time(out, end_ms);
}

void append_id_list(std::string& out, const std::vector<const Candidate*>& list, std::size_t n) {
  out += '[';
  for (std::size_t i = 0; i < n && i < list.size(); ++i) {
    if (i) out += ',';
    append_string(out, list[i]->id);
  }
  out += ']';
}

}  // namespace

std::vector<MixEntry> default_mix() { return {{50, 949}, {500, 50}, {5000, 1}}; }

std::optional<std::vector<MixEntry>> parse_mix(std::string_view text) {
  std::vector<MixEntry> mix;
  std::uint64_t total = 0;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    MixEntry e{0, 1};
    const auto colon = item.find(':');
    std::string_view count = item.substr(0, colon);
    auto r = std::from_chars(count.data(), count.data() + count.size(), e.candidates);
    if (r.ec != std::errc{} || r.ptr != count.data() + count.size() || e.candidates == 0) {
      return std::nullopt;
    }
    if (colon != std::string_view::npos) {
      std::string_view weight = item.substr(colon + 1);
      auto w = std::from_chars(weight.data(), weight.data() + weight.size(), e.weight);
      if (w.ec != std::errc{} || w.ptr != weight.data() + weight.size()) return std::nullopt;
    }
    total += e.weight;
    mix.push_back(e);
  }
  if (mix.empty() || total == 0) return std::nullopt;
  return mix;
}

SnapshotGenerator::SnapshotGenerator(GeneratorOptions options) : options_(std::move(options)) {
  for (const auto& e : options_.mix) total_weight_ += e.weight;
  if (total_weight_ == 0) {
    options_.mix = default_mix();
    for (const auto& e : options_.mix) total_weight_ += e.weight;
  }
}

std::size_t SnapshotGenerator::candidates_for(std::uint64_t index) const {
  Rng rng(stream_seed(options_.seed, index, 1));
  std::uint64_t r = rng.below(total_weight_);
  std::size_t base = options_.mix.back().candidates;
  for (const auto& e : options_.mix) {
    if (r < e.weight) {
      base = e.candidates;
      break;
    }
    r -= e.weight;
  }
  const double factor = 1.0 + options_.jitter * (2.0 * rng.unit() - 1.0);
  const auto n = static_cast<std::int64_t>(std::llround(static_cast<double>(base) * factor));
  return static_cast<std::size_t>(std::max<std::int64_t>(1, n));
}

std::string SnapshotGenerator::id_for(std::uint64_t index) const {
  Rng rng(stream_seed(options_.seed, index, 3));
  const std::int64_t started_ms = options_.base_time_ms + static_cast<std::int64_t>(index) * 50;
  std::string uuid = uuid_v7(started_ms, rng);
  return options_.run_prefix.empty() ? uuid : options_.run_prefix + "-" + uuid;
}

GeneratedSnapshot SnapshotGenerator::generate(std::uint64_t index) const {
  GeneratedSnapshot snap;
  snap.candidates = candidates_for(index);
  snap.steps = 5;
  Rng rng(stream_seed(options_.seed, index, 2));

  const std::int64_t started_ms = options_.base_time_ms + static_cast<std::int64_t>(index) * 50;
  snap.id = id_for(index);

  const Category& cat = rng.pick(kCategories);
  const std::string product = product_id(rng);
  const std::string product_title = std::string(rng.pick(kBrands)) + " " + rng.pick(cat.features) +
                                    " " + rng.pick(cat.nouns) + " " + rng.pick(cat.sizes);

  // Filter thresholds of this execution.
  const std::int64_t price_min = 10;
  const std::int64_t price_max = std::array<std::int64_t, 4>{30, 35, 40, 50}[rng.below(4)];
  const std::int64_t min_rating_tenths = 40;
  const std::int64_t min_reviews = 50;

  std::vector<Candidate> cands(snap.candidates);
  for (auto& c : cands) {
    c.id = product_id(rng);
    c.brand = rng.pick(kBrands);
    const std::size_t f = rng.below(cat.features.size());
    const std::size_t g = (f + 1 + rng.below(cat.features.size() - 1)) % cat.features.size();
    c.title = std::string(c.brand) + " " + cat.features[f] + " " + cat.features[g] + " " +
              rng.pick(cat.nouns) + ", " + rng.pick(cat.sizes);
    c.price_cents = rng.between(499, 5999);
    c.rating_tenths = rng.between(30, 50);
    const std::int64_t r = rng.between(0, 99);
    c.reviews = r * r * r / 200;  // skewed: most have few reviews, some thousands
  }

  // Step timings: the two LLM calls dominate, as in the real pipeline.
  std::int64_t t = started_ms;
  std::array<std::int64_t, 6> bounds{};
  bounds[0] = t;
  const std::array<std::pair<int, int>, 5> kDurations{
      {{300, 900}, {80, 250}, {1, 5}, {5, 40}, {400, 1200}}};
  for (std::size_t i = 0; i < 5; ++i) {
    // Large candidate sets take proportionally longer to filter and rank.
    const std::int64_t scale =
        (i == 2 || i == 3) ? 1 + static_cast<std::int64_t>(snap.candidates) / 200 : 1;
    t += rng.between(kDurations[i].first, kDurations[i].second) * scale;
    bounds[i + 1] = t;
  }
  snap.failed = rng.below(100) == 0;

  std::string& out = snap.json;
  out.reserve(1024 + snap.candidates * 260);

  // --- execution header
  out += "{\"id\":";
  append_string(out, snap.id);
  out += ",\"app\":";
  append_string(out, options_.app);
  out += ",\"pipeline\":";
  append_string(out, options_.pipeline);
  out += ",\"environment\":";
  append_string(out, options_.environment);
  out += snap.failed ? ",\"status\":\"failed\"" : ",\"status\":\"completed\"";
  out += ",\"started_at\":";
  append_time(out, bounds[0]);
  out += ",\"ended_at\":";
  append_time(out, bounds[5]);
  out += ",\"metadata\":{\"useCase\":\"competitor-search\",\"productId\":";
  append_string(out, product);
  out += ",\"category\":";
  append_string(out, cat.name);
  out += ",\"seed\":";
  append_int(out, static_cast<std::int64_t>(options_.seed));
  out += ",\"index\":";
  append_int(out, static_cast<std::int64_t>(index));
  out += "},\"steps\":[";

  // --- 1. keyword_generation
  std::vector<std::string> keywords{cat.name, std::string(cat.nouns[0]) + " " + cat.sizes[1]};
  const std::size_t keyword_count = 3 + rng.below(3);
  while (keywords.size() < keyword_count) {
    keywords.push_back(std::string(rng.pick(kKeywordAdds)) + " " + rng.pick(cat.features) + " " +
                       cat.name);
  }
  const char* model = rng.pick(kModels);
  open_step(out, "keyword_generation", "completed", bounds[0], bounds[1]);
  out += ",\"input\":{\"productId\":";
  append_string(out, product);
  out += ",\"title\":";
  append_string(out, product_title);
  out += ",\"category\":";
  append_string(out, cat.name);
  out += "},\"output\":{\"keywords\":[";
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    if (i) out += ',';
    append_string(out, keywords[i]);
  }
  out += "]},\"reasoning\":";
  append_string(out, "generated " + std::to_string(keywords.size()) +
                         " search keywords from the product title and category '" + cat.name + "'");
  out += ",\"metadata\":{\"model\":";
  append_string(out, model);
  out += ",\"promptTokens\":";
  append_int(out, rng.between(300, 600));
  out += ",\"completionTokens\":";
  append_int(out, rng.between(30, 90));
  out += "}},";

  // --- 2. candidate_search
  open_step(out, "candidate_search", "completed", bounds[1], bounds[2]);
  out += ",\"input\":{\"keywords\":";
  out += '[';
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    if (i) out += ',';
    append_string(out, keywords[i]);
  }
  out += "],\"limit\":";
  append_int(out, static_cast<std::int64_t>(snap.candidates));
  out += "},\"output\":{\"totalResults\":";
  append_int(out, static_cast<std::int64_t>(snap.candidates) * rng.between(20, 80));
  out += ",\"candidates\":[";
  for (std::size_t i = 0; i < cands.size(); ++i) {
    const Candidate& c = cands[i];
    if (i) out += ',';
    out += "{\"id\":";
    append_string(out, c.id);
    out += ",\"title\":";
    append_string(out, c.title);
    out += ",\"price\":";
    append_fixed(out, c.price_cents, 2);
    out += ",\"rating\":";
    append_fixed(out, c.rating_tenths, 1);
    out += ",\"reviews\":";
    append_int(out, c.reviews);
    out += '}';
  }
  out += "]},\"metadata\":{\"source\":\"catalog-search\",\"page\":1}},";

  // --- 3. filter_candidates: one evaluation per candidate, every failed rule a reason.
  std::vector<Candidate*> kept;
  std::size_t drop_price = 0, drop_rating = 0, drop_reviews = 0;
  open_step(out, "filter_candidates", "completed", bounds[2], bounds[3]);
  out += ",\"input\":{\"candidates\":";
  append_int(out, static_cast<std::int64_t>(cands.size()));
  std::string evals;
  evals.reserve(cands.size() * 80);
  for (std::size_t i = 0; i < cands.size(); ++i) {
    Candidate& c = cands[i];
    if (i) evals += ',';
    evals += "{\"id\":";
    append_string(evals, c.id);
    std::vector<std::string> reasons;
    if (c.price_cents > price_max * 100) {
      reasons.push_back("price " + fixed(c.price_cents, 2) + " > " + std::to_string(price_max));
      ++drop_price;
    } else if (c.price_cents < price_min * 100) {
      reasons.push_back("price " + fixed(c.price_cents, 2) + " < " + std::to_string(price_min));
      ++drop_price;
    }
    if (c.rating_tenths < min_rating_tenths) {
      reasons.push_back("rating " + fixed(c.rating_tenths, 1) + " < " +
                        fixed(min_rating_tenths, 1));
      ++drop_rating;
    }
    if (c.reviews < min_reviews) {
      reasons.push_back("reviews " + std::to_string(c.reviews) + " < " +
                        std::to_string(min_reviews));
      ++drop_reviews;
    }
    c.passed = reasons.empty();
    if (c.passed) {
      kept.push_back(&c);
      evals += ",\"passed\":true,\"scores\":{\"price\":";
      append_fixed(evals, c.price_cents, 2);
      evals += ",\"rating\":";
      append_fixed(evals, c.rating_tenths, 1);
      evals += ",\"reviews\":";
      append_int(evals, c.reviews);
      evals += "}}";
    } else {
      evals += ",\"passed\":false,\"reasons\":[";
      for (std::size_t r = 0; r < reasons.size(); ++r) {
        if (r) evals += ',';
        append_string(evals, reasons[r]);
      }
      evals += "]}";
    }
  }
  snap.evaluations += cands.size();
  const std::size_t dropped = cands.size() - kept.size();
  out += "},\"output\":{\"kept\":";
  append_int(out, static_cast<std::int64_t>(kept.size()));
  out += ",\"dropped\":";
  append_int(out, static_cast<std::int64_t>(dropped));
  out += "},\"filters\":{\"price\":{\"min\":";
  append_int(out, price_min);
  out += ",\"max\":";
  append_int(out, price_max);
  out += "},\"minRating\":";
  append_fixed(out, min_rating_tenths, 1);
  out += ",\"minReviews\":";
  append_int(out, min_reviews);
  out += "},\"evaluations\":[";
  out += evals;
  out += "],\"selection\":null,\"reasoning\":";
  append_string(out, "dropped " + std::to_string(dropped) + " of " + std::to_string(cands.size()) +
                         " candidates: " + std::to_string(drop_price) +
                         " outside the price band 10-" + std::to_string(price_max) + ", " +
                         std::to_string(drop_rating) + " rated below 4.0, " +
                         std::to_string(drop_reviews) + " with fewer than 50 reviews");
  out += ",\"metadata\":{\"filteredCount\":";
  append_int(out, static_cast<std::int64_t>(dropped));
  out += "}},";

  // --- 4. rank_candidates: weighted score breakdown for every survivor.
  for (Candidate* c : kept) {
    c->relevance = rng.between(400, 1000);
    c->rating_score = (c->rating_tenths - 30) * 50;  // 3.0 → 0, 5.0 → 1
    c->price_score =
        1000 - (c->price_cents - price_min * 100) * 1000 / ((price_max - price_min) * 100);
    c->reviews_score = std::min<std::int64_t>(1000, c->reviews / 5);
    c->total = (400 * c->relevance + 300 * c->rating_score + 200 * c->price_score +
                100 * c->reviews_score) /
               1000;
  }
  std::vector<const Candidate*> ranked(kept.begin(), kept.end());
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const Candidate* a, const Candidate* b) { return a->total > b->total; });
  const std::size_t top_n = std::min<std::size_t>(10, ranked.size());
  open_step(out, "rank_candidates", "completed", bounds[3], bounds[4]);
  out += ",\"input\":{\"candidates\":";
  append_int(out, static_cast<std::int64_t>(kept.size()));
  out += "},\"output\":{\"ranking\":";
  append_id_list(out, ranked, top_n);
  out += "},\"evaluations\":[";
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const Candidate& c = *ranked[i];
    if (i) out += ',';
    out += "{\"id\":";
    append_string(out, c.id);
    out += i < top_n ? ",\"passed\":true" : ",\"passed\":false,\"reasons\":[\"rank ";
    if (i >= top_n) {
      append_int(out, static_cast<std::int64_t>(i + 1));
      out += " > 10\"]";
    }
    out += ",\"scores\":{\"relevance\":";
    append_fixed(out, c.relevance, 3);
    out += ",\"rating\":";
    append_fixed(out, c.rating_score, 3);
    out += ",\"price\":";
    append_fixed(out, c.price_score, 3);
    out += ",\"reviews\":";
    append_fixed(out, c.reviews_score, 3);
    out += ",\"total\":";
    append_fixed(out, c.total, 3);
    out += "}}";
  }
  snap.evaluations += ranked.size();
  out += "],\"reasoning\":\"total = 0.4 relevance + 0.3 rating + 0.2 price + 0.1 reviews\"";
  out +=
      ",\"metadata\":{\"weights\":{\"relevance\":0.4,\"rating\":0.3,\"price\":0.2,"
      "\"reviews\":0.1},\"topN\":10}},";

  // --- 5. select_competitor
  const Candidate* best = ranked.empty() ? nullptr : ranked[0];
  const Candidate* runner_up = ranked.size() > 1 ? ranked[1] : nullptr;
  open_step(out, "select_competitor", snap.failed ? "failed" : "completed", bounds[4], bounds[5]);
  out += ",\"input\":{\"top\":";
  append_id_list(out, ranked, 3);
  out += '}';
  if (snap.failed) {
    out += ",\"output\":null,\"selection\":null,\"reasoning\":";
    append_string(out, std::string(model) + " call timed out after 30 s; no competitor selected");
  } else if (best == nullptr) {
    out +=
        ",\"output\":{\"selected\":null},\"selection\":null,"
        "\"reasoning\":\"no candidate passed the filters\"";
  } else {
    out += ",\"output\":{\"selected\":";
    append_string(out, best->id);
    out += "},\"selection\":{\"id\":";
    append_string(out, best->id);
    out += ",\"score\":";
    append_fixed(out, best->total, 3);
    out += ",\"runnerUp\":";
    if (runner_up) {
      append_string(out, runner_up->id);
    } else {
      out += "null";
    }
    out += "},\"reasoning\":";
    std::string why =
        best->id + " (" + best->title + ") has the highest total score " + fixed(best->total, 3) +
        ": relevance " + fixed(best->relevance, 3) + ", rating " + fixed(best->rating_tenths, 1) +
        " from " + std::to_string(best->reviews) + " reviews, price " +
        fixed(best->price_cents, 2) + " inside the 10-" + std::to_string(price_max) + " band";
    if (runner_up) {
      why += "; runner-up " + runner_up->id + " scores " + fixed(runner_up->total, 3);
    }
    append_string(out, why);
  }
  out += ",\"metadata\":{\"model\":";
  append_string(out, model);
  out += ",\"promptTokens\":";
  append_int(out, rng.between(700, 1400));
  out += ",\"completionTokens\":";
  append_int(out, rng.between(60, 200));
  out += "}}]";

  // --- result and error
  if (snap.failed) {
    out += ",\"result\":null,\"error\":{\"message\":";
    append_string(out, std::string(model) + " call timed out after 30 s");
    out += ",\"step\":\"select_competitor\",\"code\":\"llm_timeout\"}}";
  } else {
    out += ",\"result\":{\"selected\":";
    if (best) {
      append_string(out, best->id);
    } else {
      out += "null";
    }
    out += "},\"error\":null}";
  }
  return snap;
}

}  // namespace xray::bench
