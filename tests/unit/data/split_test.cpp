// The train/validation/test split: one example checked against `datasets`
// 5.2.0, the partition property, the errors and the cache folder names (the
// full comparison with `datasets` is tests/parity/split_parity_test.cpp).
#include "finch/data/split.h"

#include <algorithm>
#include <numeric>

#include "../test_util.h"

namespace finch::data {
namespace {

TEST(SplitIndices, MatchesDatasetsOnASmallExample) {
  // Dataset.from_dict({"idx": range(20)}): train_test_split(test_size=1 - 0.9,
  // seed=42), then the test part split with test_size=0.5, seed=42.
  // 1 - 0.9 = 0.09999999999999998, so ceil(20 * it) = 2 rows are held out.
  const SplitIndices s = split_indices(20, 0.9, 0.5, 42);
  EXPECT_EQ(s.train, (std::vector<int64_t>{14, 7, 12, 10, 6, 19, 3, 0, 16, 5, 11, 18, 2, 4, 17, 1, 13, 8}));
  EXPECT_EQ(s.validation, std::vector<int64_t>{15});
  EXPECT_EQ(s.test, std::vector<int64_t>{9});
}

TEST(SplitIndices, PartitionsTheRowsWithDatasetsSizes) {
  const SplitIndices s = split_indices(1001, 0.8, 0.3, 7);
  // held out ceil(0.19999999999999996 * 1001) = 201; test ceil(0.3 * 201) = 61
  EXPECT_EQ(s.train.size(), 800u);
  EXPECT_EQ(s.validation.size(), 140u);
  EXPECT_EQ(s.test.size(), 61u);
  std::vector<int64_t> all = s.train;
  all.insert(all.end(), s.validation.begin(), s.validation.end());
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  std::vector<int64_t> identity(1001);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(all, identity);
  EXPECT_EQ(split_indices(1001, 0.8, 0.3, 7).train, s.train) << "same seed, same split";
  EXPECT_NE(split_indices(1001, 0.8, 0.3, 8).train, s.train);
}

TEST(SplitIndices, BadRatiosAndEmptySplitsAreErrors) {
  test::expect_error([] { split_indices(100, 1.0, 0.5, 0); }, {"train_split_ratio must be in (0, 1), got 1"});
  test::expect_error([] { split_indices(100, 0.0, 0.5, 0); }, {"train_split_ratio must be in (0, 1), got 0"});
  test::expect_error([] { split_indices(100, 1e-20, 0.5, 0); }, {"train_split_ratio", "rounds to 1"});
  test::expect_error([] { split_indices(100, 0.9, 1.5, 0); }, {"val_test_split_ratio must be in (0, 1), got 1.5"});
  test::expect_error([] { split_indices(100, 0.9, -0.1, 0); }, {"val_test_split_ratio must be in (0, 1)"});
  test::expect_error([] { split_indices(0, 0.9, 0.5, 0); }, {"0 rows"});
  // 1 row: ceil(0.1 * 1) = 1 held out, nothing left to train on.
  test::expect_error([] { split_indices(1, 0.9, 0.5, 0); },
                     {"the train split would be empty", "1 rows", "train_split_ratio=0.9"});
  // 10 rows: 1 held out, and ceil(0.5 * 1) = 1 of it goes to test.
  test::expect_error([] { split_indices(10, 0.9, 0.5, 0); },
                     {"the validation split would be empty", "10 rows", "hold out 1", "val_test_split_ratio=0.5"});
}

TEST(SplitFolderName, PercentagesAddUpTo100) {
  EXPECT_EQ(split_folder_name(0.9, 0.5), "train=90%-val=5%-test=5%");
  EXPECT_EQ(split_folder_name(0.8, 0.5), "train=80%-val=10%-test=10%");
  EXPECT_EQ(split_folder_name(0.9, 0.3), "train=90%-val=7%-test=3%");
  EXPECT_EQ(split_folder_name(0.95, 0.5), "train=95%-val=3%-test=2%");
  EXPECT_EQ(split_folder_name(0.85, 0.5), "train=85%-val=8%-test=7%");
  EXPECT_EQ(split_folder_name(0.7, 0.25), "train=70%-val=23%-test=7%");  // 22.5 / 7.5: tie to val
  EXPECT_EQ(split_folder_name(0.333, 0.5), "train=33%-val=34%-test=33%");
  EXPECT_EQ(split_folder_name(0.999, 0.5), "train=100%-val=0%-test=0%");
  test::expect_error([] { split_folder_name(1.0, 0.5); }, {"train_split_ratio must be in (0, 1)"});
}

}  // namespace
}  // namespace finch::data
