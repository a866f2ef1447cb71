// The `datasets`-exact train/validation/test split; see split.h.
#include "finch/data/split.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

#include "finch/core/error.h"
#include "finch/core/numpy_random.h"

namespace finch::data {
namespace {

void check_ratio(const char* name, double value) {
  if (!(value > 0.0 && value < 1.0)) fail("{} must be in (0, 1), got {}", name, value);
}

// The first split's test_size, checked as `datasets` checks it: a ratio so
// close to 0 that 1 - ratio rounds to 1 is refused too.
double held_out_fraction(double train_split_ratio) {
  check_ratio("train_split_ratio", train_split_ratio);
  const double test_size = 1.0 - train_split_ratio;
  if (!(test_size < 1.0))
    fail("train_split_ratio must be in (0, 1), got {} (1 - train_split_ratio rounds to 1)", train_split_ratio);
  return test_size;
}

// One train_test_split(test_size, seed) of n rows: positions 0..n-1 are
// permuted, the first n_test go to test, the rest to train.
struct TwoWay {
  std::vector<int64_t> train, test;
};

TwoWay train_test_split(int64_t n, int64_t n_test, uint64_t seed) {
  std::vector<int64_t> order = NumpyGenerator(seed).permutation(n);
  TwoWay out;
  out.test.assign(order.begin(), order.begin() + n_test);
  out.train.assign(order.begin() + n_test, order.end());
  return out;
}

// n_test = ceil(test_size * n), the product in double as Python computes it.
int64_t test_count(double test_size, int64_t n) {
  return static_cast<int64_t>(std::ceil(test_size * static_cast<double>(n)));
}

}  // namespace

SplitIndices split_indices(int64_t n_rows, double train_split_ratio, double val_test_split_ratio,
                           uint64_t seed) {
  const double held_out = held_out_fraction(train_split_ratio);
  check_ratio("val_test_split_ratio", val_test_split_ratio);
  if (n_rows <= 0) fail("cannot split a dataset of {} rows into train, validation and test", n_rows);

  const int64_t n_held_out = test_count(held_out, n_rows);
  if (n_rows - n_held_out == 0)
    fail("the train split would be empty: {} rows with train_split_ratio={} hold out all {} for validation and "
         "test (ceil({} * {})); use more rows or a larger train_split_ratio",
         n_rows, train_split_ratio, n_held_out, held_out, n_rows);
  const int64_t n_test = test_count(val_test_split_ratio, n_held_out);
  if (n_held_out - n_test == 0)
    fail("the validation split would be empty: {} rows with train_split_ratio={} hold out {}, and "
         "val_test_split_ratio={} puts all of them in test (ceil({} * {})); use more rows, a smaller "
         "train_split_ratio or a smaller val_test_split_ratio",
         n_rows, train_split_ratio, n_held_out, val_test_split_ratio, val_test_split_ratio, n_held_out);

  TwoWay first = train_test_split(n_rows, n_held_out, seed);
  // The second split permutes positions within the first split's test rows.
  const TwoWay second = train_test_split(n_held_out, n_test, seed);
  SplitIndices out;
  out.train = std::move(first.train);
  out.validation.reserve(second.train.size());
  for (const int64_t position : second.train) out.validation.push_back(first.test[position]);
  out.test.reserve(second.test.size());
  for (const int64_t position : second.test) out.test.push_back(first.test[position]);
  return out;
}

std::string split_folder_name(double train_split_ratio, double val_test_split_ratio) {
  const double held_out = held_out_fraction(train_split_ratio);
  check_ratio("val_test_split_ratio", val_test_split_ratio);
  // Shares in units of 1e-6 percent; validation takes what train and test leave.
  constexpr int64_t kUnit = 1'000'000;
  const int64_t train = std::llround(train_split_ratio * 100.0 * kUnit);
  const int64_t test = std::llround(held_out * val_test_split_ratio * 100.0 * kUnit);
  std::array<int64_t, 3> units{train, 100 * kUnit - train - test, test};
  std::array<int64_t, 3> percent{};
  int64_t left = 100;
  for (size_t i = 0; i < 3; ++i) {
    percent[i] = units[i] / kUnit;
    left -= percent[i];
  }
  // Largest remainder: the missing points go to the largest fractional parts,
  // earlier parts first on ties.
  for (; left > 0; --left) {
    size_t best = 0;
    for (size_t i = 1; i < 3; ++i)
      if (units[i] % kUnit > units[best] % kUnit) best = i;
    ++percent[best];
    units[best] = percent[best] * kUnit;  // its remainder is used up
  }
  return fmt::format("train={}%-val={}%-test={}%", percent[0], percent[1], percent[2]);
}

}  // namespace finch::data
