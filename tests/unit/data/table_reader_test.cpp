// Table readers on bad input: one-line errors naming the file and line/row
// and what was expected; skip_bad_rows counts instead; large inputs stay linear.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/data/table_reader.h"
#include "../test_util.h"

namespace finch::data {
namespace {

using test::expect_error;

std::vector<Row> read(std::string_view name, std::string_view text, ReadOptions options = {},
                      ReadStats* stats = nullptr) {
  std::vector<Row> rows;
  const auto sink = [&](Row&& row, const std::string&) { rows.push_back(std::move(row)); };
  const ReadStats s = name.ends_with(".csv")    ? read_csv(name, text, options, sink)
                      : name.ends_with(".json") ? read_json_document(name, text, options, sink)
                                                : read_json_lines(name, text, options, sink);
  if (stats) *stats = s;
  return rows;
}

TEST(TableReader, FormatByExtension) {
  EXPECT_EQ(table_format_of("a/b.JSONL"), TableFormat::jsonl);
  EXPECT_EQ(table_format_of("b.ndjson"), TableFormat::jsonl);
  EXPECT_EQ(table_format_of("b.json"), TableFormat::json);
  EXPECT_EQ(table_format_of("b.csv"), TableFormat::csv);
  EXPECT_EQ(table_format_of("b.parquet"), TableFormat::parquet);
  EXPECT_FALSE(table_format_of("b.txt"));
  expect_error([] { read_table("b.txt", {}, [](Row&&, const std::string&) {}); }, {"b.txt", ".jsonl"});
}

TEST(TableReader, JsonLinesBadRows) {
  expect_error([] { read("d.jsonl", "{\"a\":1}\n{\"a\":\n"); }, {"d.jsonl:2", "not valid JSON"});
  expect_error([] { read("d.jsonl", "{\"a\":1}\n\n[1,2]\n"); }, {"d.jsonl:3", "expected a JSON object", "an array"});
  expect_error([] { read("d.jsonl", "{\"a\":1}\n\"s\"\n"); }, {"d.jsonl:2", "expected a JSON object", "a string"});
  expect_error([] { read("d.jsonl", "{\"a\":\"\xff\xfe\"}\n"); }, {"d.jsonl:1", "not valid JSON", "UTF-8"});
  expect_error([] { read("d.jsonl", "{\"a\":1} x\n"); }, {"d.jsonl:1", "not valid JSON"});
  // nlohmann throws out_of_range, not parse_error, for a number past double.
  expect_error([] { read("d.jsonl", "{\"a\":1e400}\n"); }, {"d.jsonl:1", "not valid JSON", "number overflow"});
  expect_error([] { read("d.json", "[{\"a\":1E3022}]"); }, {"d.json", "not valid JSON", "number overflow"});
  // Nothing reaches the sink from a file with a bad row.
  int seen = 0;
  EXPECT_THROW(read_json_lines("d.jsonl", "{\"a\":1}\n{", {}, [&](Row&&, const std::string&) { ++seen; }), Error);
  EXPECT_EQ(seen, 0);
}

TEST(TableReader, SkipBadRowsCountsThem) {
  ReadStats stats;
  const auto rows = read("d.jsonl", "{\"a\":1}\n{bad\n[1]\n{\"a\":2.5}\n", {.skip_bad_rows = true}, &stats);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(stats.rows, 2);
  EXPECT_EQ(stats.bad_rows, 2);
  EXPECT_NE(stats.first_bad_row.find("d.jsonl:2"), std::string::npos) << stats.first_bad_row;
  EXPECT_TRUE(rows[0]["a"].is_number_float());  // the bad rows do not take part in typing
  const auto csv = read("d.csv", "a,b\n1,2\n3,4,5\n\"x\xff\",6\n7,8\n", {.skip_bad_rows = true}, &stats);
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(stats.bad_rows, 2);
  EXPECT_NE(stats.first_bad_row.find("d.csv:3: expected at most 2 fields"), std::string::npos) << stats.first_bad_row;
  EXPECT_EQ(csv[1]["a"], 7);
}

TEST(TableReader, CsvBadRows) {
  expect_error([] { read("d.csv", "a,b\n1,2\n3,4,5\n"); }, {"d.csv:3", "expected at most 2 fields", "saw 3"});
  expect_error([] { read("d.csv", "a,b\n1,\"2\n3,4\n"); }, {"d.csv:2", "unterminated quoted field"});
  expect_error([] { read("d.csv", "a,b\n1,2\n\xc3(,4\n"); }, {"d.csv:3", "invalid UTF-8"});
  expect_error([] { read("d.csv", "\"a,b\n"); }, {"d.csv:1", "header"});
  // The line named is where the record starts, after embedded newlines.
  expect_error([] { read("d.csv", "a\n\"x\ny\"\n1,2\n"); }, {"d.csv:4"});
}

TEST(TableReader, EmptyInputsGiveNoRows) {
  ReadStats stats;
  for (auto name : {"e.jsonl", "e.json", "e.csv"}) {
    EXPECT_TRUE(read(name, "", {}, &stats).empty()) << name;
    EXPECT_EQ(stats.rows, 0);
    EXPECT_TRUE(read(name, "\n\n", {}, &stats).empty()) << name;
  }
  EXPECT_TRUE(read("h.csv", "a,b\n").empty());
}

TEST(TableReader, JsonDocuments) {
  auto rows = read("d.json", "[{\"a\":1},{\"b\":\"x\"}]");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].dump(), R"({"a":null,"b":"x"})");
  expect_error([] { read("d.json", "[{\"a\":1}, 3]"); }, {"d.json row 2", "expected a JSON object", "a number"});
  expect_error([] { read("d.json", "[{\"a\":1},"); }, {"d.json", "not valid JSON"});
  rows = read("d.json", "{\"data\": [1, 2]}");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].dump(), R"({"data":[1,2]})");
}

TEST(TableReader, ValuesOfMixedKindsAreKeptAsWritten) {
  const auto rows = read("d.jsonl", "{\"a\":1}\n{\"a\":\"1\"}\n{\"a\":1.0}\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(rows[0]["a"].is_number_integer());
  EXPECT_TRUE(rows[1]["a"].is_string());
  EXPECT_TRUE(rows[2]["a"].is_number_float());
}

TEST(TableReader, HugeLineIsLinear) {
  // One 100 MB string value: must parse in time linear in its size.
  std::string text = "{\"a\":1}\n{\"a\":2,\"s\":\"";
  text.append(100u << 20, 'x');
  text += "\"}\n";
  const auto start = std::chrono::steady_clock::now();
  const auto rows = read("big.jsonl", text);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["s"].get_ref<const std::string&>().size(), 100u << 20);
  EXPECT_TRUE(rows[0]["s"].is_null());
  EXPECT_LT(seconds, 20.0);
  text.resize(text.size() - 3);  // truncated: a clean error, not a hang
  expect_error([&] { read("big.jsonl", text); }, {"big.jsonl:2", "not valid JSON"});
}

TEST(TableReader, NotParquetIsAnErrorNamingTheFile) {
  test::TempDir dir;
  write_file_atomic(dir / "x.parquet", "PAR1 this is not parquet");
  expect_error([&] { read_table(dir / "x.parquet", {}, [](Row&&, const std::string&) {}); }, {"x.parquet", "Parquet"});
  write_file_atomic(dir / "e.parquet", "");
  expect_error([&] { read_table(dir / "e.parquet", {}, [](Row&&, const std::string&) {}); }, {"e.parquet"});
  write_file_atomic(dir / "e.jsonl", "");
  EXPECT_EQ(read_table(dir / "e.jsonl", {}, [](Row&&, const std::string&) {}).rows, 0);
}

TEST(TableReader, WhereNamesFileAndLine) {
  test::TempDir dir;
  write_file_atomic(dir / "w.csv", "a\n1\n\n\"x\ny\"\n");
  std::vector<std::string> where;
  read_table(dir / "w.csv", {}, [&](Row&&, const std::string& w) { where.push_back(w); });
  ASSERT_EQ(where.size(), 2u);
  EXPECT_EQ(where[0], (dir / "w.csv").string() + ":2");
  EXPECT_EQ(where[1], (dir / "w.csv").string() + ":4");
}

}  // namespace
}  // namespace finch::data
