// The built-in default dataset (`finch data synth`): deterministic
// instruction rows {"instruction", "input", "output"} (the columns of the
// default templates of `finch data prepare`) in four task families with
// short, exact, checkable answers, which a small instruct model gets wrong
// before fine-tuning and right after:
//
//   row i is family i % 4:
//   0 unit conversion    "3.5 km to m"                          -> "3500 m"
//   1 date reformatting  "2024-03-07" (+ a target form)         -> "March 7, 2024"
//   2 field extraction   {"name": ..., "age": ..., ...} + a key -> the value
//   3 arithmetic         a word problem with 2-3 numbers, + - * -> "42"
//
// The rows are a function of (seed, row number) alone, from splitmix64 and
// integer arithmetic (no <random> distributions, no floating point), so a
// file is byte-identical across runs, compilers and machines, and the first
// N rows of a longer file are the N-row file.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace finch::data {

struct SynthOptions {
  int64_t rows = 2400;
  uint64_t seed = 0;
};

struct SynthRow {
  std::string instruction, input, output;
};

inline constexpr int kSynthFamilies = 4;
// "unit conversion", "date reformatting", "field extraction", "arithmetic".
const char* synth_family_name(int family);

// Row `index` of the dataset for `seed` (its family is index % kSynthFamilies).
SynthRow synth_row(uint64_t seed, int64_t index);

struct SynthSummary {
  int64_t rows = 0;
  std::array<int64_t, kSynthFamilies> per_family{};
};

// Writes options.rows rows as JSONL to `path` atomically (one
// {"instruction", "input", "output"} object per line). rows < 1 is an error
// naming --rows.
SynthSummary write_synth_jsonl(const std::filesystem::path& path, const SynthOptions& options);

}  // namespace finch::data
