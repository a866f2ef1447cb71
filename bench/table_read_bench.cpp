// Reading throughput of the JSON Lines and JSON (array) table readers on rows
// shaped like instruction data sets: {"instruction","input","output"} strings,
// ~1 KB a row, with escapes (\n, \", \uXXXX) and some non-ASCII text, the shape
// `finch data prepare` reads. Prints one JSON line with MB/s per format.
// Usage: finch_table_read_bench [ROWS]   (default 200000)
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

#include "finch/data/table_reader.h"

namespace {

// A deterministic pseudo-random sentence of about `size` bytes, as JSON string content.
std::string words(uint64_t& state, size_t size) {
  static const char* const vocab[] = {"the",    "model",  "answer", "question", "data",   "write",  "explain",
                                      "simple", "step",   "number", "list",     "python", "function", "return",
                                      "café",   "naïve",  "数据",   "größer",   "value",  "example"};
  std::string out;
  while (out.size() < size) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const uint64_t r = state >> 33;
    out += vocab[r % 20];
    switch (r / 20 % 16) {
      case 0: out += "\\n"; break;
      case 1: out += ", \\\"quoted\\\" "; break;
      case 2: out += " \\u00e9 "; break;
      case 3: out += ". "; break;
      default: out += ' ';
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 200000;
  uint64_t state = 42;
  std::string jsonl, array = "[";
  for (int64_t i = 0; i < rows; ++i) {
    const std::string row = fmt::format(R"({{"instruction": "{}", "input": "{}", "output": "{}"}})",
                                        words(state, 150), i % 3 ? words(state, 120) : "", words(state, 700));
    jsonl += row;
    jsonl += '\n';
    array += i ? ",\n" : "\n";
    array += row;
  }
  array += "\n]\n";
  nlohmann::ordered_json out{{"rows", rows},
                             {"jsonl_mb", jsonl.size() / 1e6},
                             {"threads", std::thread::hardware_concurrency()}};
  for (const char* format : {"jsonl", "json"}) {
    const std::string& text = format[4] ? jsonl : array;
    size_t chars = 0;
    int64_t seen = 0;
    const auto sink = [&](finch::data::Row&& row, const std::string&) {
      chars += row["output"].get_ref<const std::string&>().size();
      ++seen;
    };
    const auto start = std::chrono::steady_clock::now();
    if (format[4])
      finch::data::read_json_lines("bench.jsonl", text, {}, sink);
    else
      finch::data::read_json_document("bench.json", text, {}, sink);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seen != rows) {
      fmt::print(stderr, "finch_table_read_bench: {} rows read, expected {}\n", seen, rows);
      return 1;
    }
    out[format] = {{"seconds", seconds}, {"mb_per_s", text.size() / 1e6 / seconds}, {"output_chars", chars}};
  }
  fmt::print("{}\n", out.dump());
}
