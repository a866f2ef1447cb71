// Table reader parity with Hugging Face datasets: every data file written by
// gen/make_table_cases.py is read with finch::data::read_table and compared
// row by row with the rows datasets gave. Exact: integer vs float is a
// difference, floats compare bit for bit (NaN/inf are tagged in the
// references, see the generator), object keys compare in order.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "finch/data/table_reader.h"

namespace {

namespace fs = std::filesystem;
using finch::data::Row;

std::string same(const Row& want, const Row& got, const std::string& path) {
  if (want.is_object() && want.size() == 1 && want.contains("__float__")) {
    const std::string tag = want["__float__"];
    if (!got.is_number_float()) return path + ": expected " + tag + ", got " + got.dump();
    const double v = got.get<double>();
    const bool ok = tag == "nan" ? std::isnan(v) : tag == "inf" ? v == INFINITY : v == -INFINITY;
    return ok ? "" : path + ": expected " + tag + ", got " + std::to_string(v);
  }
  if (want.is_number_float() || got.is_number_float()) {
    if (!want.is_number_float() || !got.is_number_float())
      return path + ": expected " + want.dump() + ", got " + got.dump() + " (int vs float)";
    if (std::bit_cast<uint64_t>(want.get<double>()) != std::bit_cast<uint64_t>(got.get<double>()))
      return path + ": expected float " + want.dump() + ", got " + got.dump();
    return "";
  }
  if (want.is_number_integer() && got.is_number_integer()) {
    // nlohmann keeps non-negative integers as unsigned when parsed, signed when assigned.
    auto negative = [](const Row& v) { return !v.is_number_unsigned() && v.get<int64_t>() < 0; };
    const bool equal = negative(want) || negative(got) ? want.get<int64_t>() == got.get<int64_t>()
                                                       : want.get<uint64_t>() == got.get<uint64_t>();
    return equal ? "" : path + ": expected " + want.dump() + ", got " + got.dump();
  }
  if (want.type() != got.type()) return path + ": expected " + want.dump() + ", got " + got.dump();
  if (want.is_object()) {
    if (want.size() != got.size()) return path + ": expected keys of " + want.dump() + ", got " + got.dump();
    auto g = got.begin();
    for (auto w = want.begin(); w != want.end(); ++w, ++g) {
      if (w.key() != g.key()) return path + ": expected key '" + w.key() + "', got '" + g.key() + "'";
      auto diff = same(w.value(), g.value(), path + "." + w.key());
      if (!diff.empty()) return diff;
    }
    return "";
  }
  if (want.is_array()) {
    if (want.size() != got.size()) return path + ": expected " + want.dump() + ", got " + got.dump();
    for (size_t i = 0; i < want.size(); ++i) {
      auto diff = same(want[i], got[i], path + "[" + std::to_string(i) + "]");
      if (!diff.empty()) return diff;
    }
    return "";
  }
  return want == got ? "" : path + ": expected " + want.dump() + ", got " + got.dump();
}

TEST(TableParity, EveryCaseMatchesDatasets) {
  const fs::path dir = fs::path(FINCH_PARITY_DIR) / "tables";
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " missing: run the parity.make_table_cases fixture";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = ".expected.jsonl";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    const fs::path data = dir / name.substr(0, name.size() - suffix.size());
    SCOPED_TRACE(data.filename().string());
    std::vector<Row> want;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) want.push_back(Row::parse(line));
    std::vector<Row> got;
    const auto stats = finch::data::read_table(data, {}, [&](Row&& row, const std::string&) {
      got.push_back(std::move(row));
    });
    EXPECT_EQ(stats.rows, static_cast<int64_t>(got.size()));
    EXPECT_EQ(stats.bad_rows, 0);
    ASSERT_EQ(got.size(), want.size());
    int failures = 0;
    for (size_t i = 0; i < want.size() && failures < 3; ++i) {
      const auto diff = same(want[i], got[i], "row " + std::to_string(i + 1));
      EXPECT_EQ(diff, "");
      failures += !diff.empty();
    }
    ++cases;
  }
  EXPECT_GE(cases, 40);
}

}  // namespace
