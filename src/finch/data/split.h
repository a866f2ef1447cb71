// The train/validation/test split, row for row what Hugging Face `datasets`
// (5.2.0, Dataset.train_test_split) gives for the same seed, so that a user
// can check finch's split against Python:
//
//   first  = ds.train_test_split(test_size=1 - train_split_ratio, seed=seed)
//   second = first["test"].train_test_split(test_size=val_test_split_ratio, seed=seed)
//   train, validation, test = first["train"], second["train"], second["test"]
//
// Each train_test_split(test_size=f, seed=s) of n rows (shuffle=True, no
// train_size, no stratification) does exactly this:
//   - f must be a float in (0, 1) (the subtraction 1 - train_split_ratio is
//     done in double, as Python does);
//   - n_test = ceil(f * n) (the product in double), n_train = n - n_test, and
//     n_train == 0 is an error (n_test >= 1 always holds);
//   - p = np.random.default_rng(s).permutation(n); test = p[:n_test],
//     train = p[n_test:n_test + n_train], in that order.
// The second split permutes positions within the first split's test rows,
// with a fresh generator from the same seed.
//
// One deliberate difference: `datasets` returns empty splits for an empty
// dataset; finch refuses it, since nothing could be trained on.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace finch::data {

// Row numbers of the original dataset, in the order `datasets` selects them.
struct SplitIndices {
  std::vector<int64_t> train, validation, test;
};

// Throws finch::Error (one line naming the setting) when a ratio is outside
// (0, 1) or a split would be empty.
SplitIndices split_indices(int64_t n_rows, double train_split_ratio, double val_test_split_ratio,
                           uint64_t seed);

// The split's share of the whole dataset in integer percent, for the cache
// folder name: "train=90%-val=5%-test=5%" for (0.9, 0.5). Shares are
// 100*train, 100*(1-train)*(1-val_test) and 100*(1-train)*val_test, taken to
// 1e-6 percent (which absorbs floating-point noise such as 1 - 0.9 =
// 0.09999999999999998) and rounded by largest remainder so that the three
// always add up to 100; equal remainders favour train, then validation, then
// test. Examples: (0.8, 0.5) -> 80/10/10, (0.9, 0.3) -> 90/7/3,
// (0.95, 0.5) -> 95/3/2, (0.85, 0.5) -> 85/8/7.
std::string split_folder_name(double train_split_ratio, double val_test_split_ratio);

}  // namespace finch::data
