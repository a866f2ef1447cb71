#include "finch/data/synth.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "finch/core/error.h"
#include "finch/core/files.h"

namespace finch::data {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): tiny, fully specified, identical on
// every platform. Each row gets its own stream from (seed, row), so rows do
// not depend on one another.
class Rng {
 public:
  explicit Rng(uint64_t state) : state_(state) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) by rejection (no modulo bias; exact and portable).
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = next();
    while (x >= limit);
    return x % n;
  }
  // Uniform in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo + 1))); }
  template <typename T, size_t N>
  const T& pick(const T (&items)[N]) { return items[below(N)]; }

 private:
  uint64_t state_;
};

// a / 10^scale as the shortest exact decimal: 3500, 3.5, 0.25 (never 3.50 or 3.4999).
std::string decimal(int64_t a, int scale) {
  int64_t p = 1;
  for (int i = 0; i < scale; ++i) p *= 10;
  std::string text = fmt::format("{}", a / p);
  std::string frac = scale ? fmt::format("{:0{}}", a % p, scale) : "";
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? text : text + "." + frac;
}

// ---- unit conversion: result = value * mul / div, all exact in decimal ----
struct UnitPair {
  const char* from;
  const char* to;
  int64_t mul;
  int div_scale;  // divide by 10^div_scale
};
constexpr UnitPair kUnits[] = {
    {"km", "m", 1000, 0}, {"m", "cm", 100, 0}, {"cm", "mm", 10, 0},  {"kg", "g", 1000, 0},
    {"L", "mL", 1000, 0}, {"h", "min", 60, 0}, {"min", "s", 60, 0},  {"m", "km", 1, 3},
    {"g", "kg", 1, 3},    {"mL", "L", 1, 3},   {"mm", "cm", 1, 1},
};

SynthRow unit_conversion(Rng& rng) {
  const UnitPair& u = rng.pick(kUnits);
  // Multiplying pairs take 0.1 .. 999 (one decimal at most); dividing pairs 1 .. 9999.
  const bool up = u.div_scale == 0;
  const int scale = up ? static_cast<int>(rng.below(2)) : 0;
  const int64_t a = up ? rng.range(1, 999) : rng.range(1, 9999);
  return {"Convert the quantity to the unit given. Reply with the number and the unit only.",
          fmt::format("{} {} to {}", decimal(a, scale), u.from, u.to),
          fmt::format("{} {}", decimal(a * u.mul, scale + u.div_scale), u.to)};
}

// ---- date reformatting: a valid ISO date -> one of three fixed forms ----
constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

int days_in_month(int year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

SynthRow date_reformatting(Rng& rng) {
  const int year = static_cast<int>(rng.range(1990, 2030));
  const int month = static_cast<int>(rng.range(1, 12));
  const int day = static_cast<int>(rng.range(1, days_in_month(year, month)));
  const std::string iso = fmt::format("{:04}-{:02}-{:02}", year, month, day);
  const char* name = kMonths[month - 1];
  switch (rng.below(3)) {
    case 0:
      return {"Rewrite the date in the form Month D, YYYY.", iso, fmt::format("{} {}, {}", name, day, year)};
    case 1:
      return {"Rewrite the date in the form DD/MM/YYYY.", iso, fmt::format("{:02}/{:02}/{:04}", day, month, year)};
    default:
      return {"Rewrite the date in the form D Month YYYY.", iso, fmt::format("{} {} {}", day, name, year)};
  }
}

// ---- field extraction: a short JSON object and the key to read ----
constexpr const char* kNames[] = {"Alice", "Bruno", "Chen",  "Dana",   "Elif",  "Farid", "Grace", "Hugo",
                                  "Ines",  "Jonas", "Kenji", "Lena",   "Marco", "Nadia", "Omar",  "Priya",
                                  "Quinn", "Rosa",  "Sven",  "Tariq",  "Uma",   "Vera",  "Wei",   "Yusuf"};
constexpr const char* kCities[] = {"Lisbon", "Oslo",    "Nairobi", "Lima",    "Osaka",   "Dublin",
                                   "Quito",  "Hanoi",   "Porto",   "Zurich",  "Accra",   "Perth",
                                   "Seoul",  "Krakow",  "Denver",  "Tunis",   "Bergen",  "Cusco"};
constexpr const char* kJobs[] = {"nurse",  "teacher", "baker",   "pilot",    "chemist", "carpenter",
                                 "lawyer", "farmer",  "plumber", "engineer", "painter", "librarian"};
constexpr const char* kFields[] = {"name", "age", "city", "job"};

SynthRow field_extraction(Rng& rng) {
  const std::string name = rng.pick(kNames);
  const std::string age = fmt::format("{}", rng.range(18, 79));
  const std::string city = rng.pick(kCities);
  const std::string job = rng.pick(kJobs);
  const int field = static_cast<int>(rng.below(4));
  const std::string values[] = {name, age, city, job};
  return {fmt::format("Read the JSON object and give the value of its \"{}\" field. Reply with the value only.",
                      kFields[field]),
          fmt::format(R"({{"name": "{}", "age": {}, "city": "{}", "job": "{}"}})", name, age, city, job),
          values[field]};
}

// ---- arithmetic word problems: two or three numbers, + - *, answers >= 0 ----
SynthRow arithmetic(Rng& rng) {
  const std::string n = rng.pick(kNames);
  const char* instruction = "Solve the word problem. Reply with the number only.";
  switch (rng.below(5)) {
    case 0: {
      const int64_t a = rng.range(2, 99), b = rng.range(2, 99);
      return {instruction,
              fmt::format("{} has {} apples and buys {} more. How many apples does {} have now?", n, a, b, n),
              fmt::format("{}", a + b)};
    }
    case 1: {
      const int64_t a = rng.range(20, 99), b = rng.range(1, a - 1);
      return {instruction, fmt::format("{} had {} stickers and gave away {}. How many stickers are left?", n, a, b),
              fmt::format("{}", a - b)};
    }
    case 2: {
      const int64_t a = rng.range(2, 12), b = rng.range(2, 12);
      return {instruction,
              fmt::format("A classroom has {} rows with {} chairs in each row. How many chairs are there?", a, b),
              fmt::format("{}", a * b)};
    }
    case 3: {
      const int64_t a = rng.range(10, 99), b = rng.range(1, 50), c = rng.range(1, a + b - 1);
      return {instruction,
              fmt::format("{} had {} coins, found {} more, then spent {}. How many coins does {} have now?", n, a,
                          b, c, n),
              fmt::format("{}", a + b - c)};
    }
    default: {
      const int64_t a = rng.range(2, 9), b = rng.range(6, 12), c = rng.range(1, 11);
      return {instruction,
              fmt::format("A shop packs {} boxes of {} eggs and has {} loose eggs. How many eggs are there in total?",
                          a, b, c),
              fmt::format("{}", a * b + c)};
    }
  }
}

}  // namespace

const char* synth_family_name(int family) {
  constexpr const char* kNamesOfFamilies[kSynthFamilies] = {"unit conversion", "date reformatting",
                                                            "field extraction", "arithmetic"};
  FINCH_CHECK(family >= 0 && family < kSynthFamilies, "family {}", family);
  return kNamesOfFamilies[family];
}

SynthRow synth_row(uint64_t seed, int64_t index) {
  // Mix the seed first so that nearby seeds and row numbers give unrelated streams.
  Rng seeder(seed);
  Rng rng(seeder.next() ^ (static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ULL));
  switch (index % kSynthFamilies) {
    case 0: return unit_conversion(rng);
    case 1: return date_reformatting(rng);
    case 2: return field_extraction(rng);
    default: return arithmetic(rng);
  }
}

SynthSummary write_synth_jsonl(const std::filesystem::path& path, const SynthOptions& options) {
  if (options.rows < 1) fail("--rows must be at least 1, got {}", options.rows);
  SynthSummary summary;
  std::string text;
  for (int64_t i = 0; i < options.rows; ++i) {
    const SynthRow row = synth_row(options.seed, i);
    text += nlohmann::ordered_json{{"instruction", row.instruction}, {"input", row.input}, {"output", row.output}}
                .dump();
    text += '\n';
    ++summary.per_family[i % kSynthFamilies];
  }
  summary.rows = options.rows;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_file_atomic(path, text);
  return summary;
}

}  // namespace finch::data
