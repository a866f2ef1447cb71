// finch's NumPy generator and dataset split against numpy and `datasets`
// themselves, exactly: tests/parity/gen/make_split_cases.py writes numpy's
// SeedSequence words, PCG64 state and raw outputs, permutations, the
// random_interval draws around the 32/64-bit switch, and `datasets`' split
// indices (or its error) for many sizes, ratios and seeds.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "finch/core/error.h"
#include "finch/core/numpy_random.h"
#include "finch/data/split.h"

namespace finch {
namespace {

const std::filesystem::path kCases = std::filesystem::path(FINCH_PARITY_DIR) / "split";

const nlohmann::json& cases() {
  static const nlohmann::json parsed = [] {
    std::ifstream in(kCases / "cases.json");
    if (!in) throw std::runtime_error("missing " + (kCases / "cases.json").string());
    return nlohmann::json::parse(in);
  }();
  return parsed;
}

std::vector<int64_t> read_u32_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  std::vector<uint32_t> raw(std::filesystem::file_size(path) / sizeof(uint32_t));
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size() * sizeof(uint32_t)));
  return {raw.begin(), raw.end()};  // little-endian host assumed (x86-64, aarch64)
}

TEST(NumpyRandomParity, SeedSequenceStateAndRawOutputs) {
  int seeds = 0;
  for (const auto& c : cases()["generators"]) {
    const auto seed = c["seed"].get<uint64_t>();
    SCOPED_TRACE(fmt::format("seed {}", seed));
    const NumpySeedSequence sequence(seed);
    EXPECT_EQ(sequence.generate_state_u32(8), c["seed_state_u32"].get<std::vector<uint32_t>>());
    EXPECT_EQ(sequence.generate_state_u64(4), c["seed_state_u64"].get<std::vector<uint64_t>>());

    NumpyGenerator rng(seed);
    EXPECT_EQ(fmt::format("{:016x}{:016x}", rng.state_high(), rng.state_low()), c["state"].get<std::string>());
    EXPECT_EQ(fmt::format("{:016x}{:016x}", rng.increment_high(), rng.increment_low()),
              c["increment"].get<std::string>());
    std::vector<uint64_t> raw;
    for (size_t i = 0; i < c["raw"].size(); ++i) raw.push_back(rng.next_uint64());
    EXPECT_EQ(raw, c["raw"].get<std::vector<uint64_t>>());
    std::vector<uint32_t> u32;
    for (size_t i = 0; i < c["uint32_after_raw"].size(); ++i) u32.push_back(rng.next_uint32());
    EXPECT_EQ(u32, c["uint32_after_raw"].get<std::vector<uint32_t>>());
    ++seeds;
  }
  EXPECT_EQ(seeds, 8);
}

TEST(NumpyRandomParity, PermutationsMatchNumpy) {
  int compared = 0;
  for (const auto& c : cases()["permutations"]) {
    const auto seed = c["seed"].get<uint64_t>();
    const auto n = c["n"].get<int64_t>();
    SCOPED_TRACE(fmt::format("seed {} n {}", seed, n));
    const std::vector<int64_t> expected = read_u32_file(kCases / c["file"].get<std::string>());
    ASSERT_EQ(static_cast<int64_t>(expected.size()), n);
    EXPECT_EQ(NumpyGenerator(seed).permutation(n), expected);
    ++compared;
  }
  EXPECT_EQ(compared, 51);
}

TEST(NumpyRandomParity, IntervalDrawsAcrossThe32BitBoundary) {
  // numpy's shuffle of 2**32 + 3 items: random_interval(i) for i = 2**32 + 2
  // down to 2**32 - 3, i.e. three 64-bit draws then three 32-bit ones.
  int compared = 0;
  for (const auto& c : cases()["intervals"]) {
    NumpyGenerator rng(c["seed"].get<uint64_t>());
    auto i = c["n"].get<uint64_t>() - 1;
    for (const auto& pair : c["pairs"]) {
      ASSERT_EQ(pair[0].get<uint64_t>(), i);
      EXPECT_EQ(rng.random_interval(i), pair[1].get<uint64_t>()) << "seed " << c["seed"] << " max " << i;
      --i;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 8 * 6);
}

TEST(SplitParity, IndicesAndErrorsMatchDatasets) {
  int splits = 0, errors = 0;
  for (const auto& c : cases()["splits"]) {
    const auto n = c["n"].get<int64_t>();
    const auto train = c["train_split_ratio"].get<double>();
    const auto val_test = c["val_test_split_ratio"].get<double>();
    const auto seed = c["seed"].get<uint64_t>();
    SCOPED_TRACE(fmt::format("n {} train {} val_test {} seed {}", n, train, val_test, seed));
    if (c.contains("error")) {
      // datasets names the n_samples of the split that failed: the whole
      // dataset for the first split (train empty), the held-out rows for the
      // second (validation empty).
      const bool first_split = c["error"].get<std::string>().starts_with(fmt::format("With n_samples={},", n));
      try {
        data::split_indices(n, train, val_test, seed);
        ADD_FAILURE() << "finch split, datasets raised: " << c["error"];
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(first_split ? "the train split would be empty"
                                                         : "the validation split would be empty"),
                  std::string::npos)
            << e.what() << "\ndatasets: " << c["error"];
      }
      ++errors;
      continue;
    }
    const data::SplitIndices ours = data::split_indices(n, train, val_test, seed);
    EXPECT_EQ(ours.train, c["train"].get<std::vector<int64_t>>());
    EXPECT_EQ(ours.validation, c["validation"].get<std::vector<int64_t>>());
    EXPECT_EQ(ours.test, c["test"].get<std::vector<int64_t>>());
    ++splits;
  }
  EXPECT_EQ(splits, 274);
  EXPECT_EQ(errors, 208);
}

}  // namespace
}  // namespace finch
