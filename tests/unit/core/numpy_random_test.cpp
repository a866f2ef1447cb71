// finch's copy of np.random.default_rng against a few values printed by numpy
// 2.4 (the full comparison is tests/parity/split_parity_test.cpp).
#include "finch/core/numpy_random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace finch {
namespace {

TEST(NumpyGenerator, SeededStateAndFirstOutputsMatchNumpy) {
  // np.random.default_rng(42).bit_generator.state and .random_raw(3)
  NumpyGenerator rng(42);
  EXPECT_EQ(rng.state_high(), 0xcea44f6798798f2aULL);
  EXPECT_EQ(rng.state_low(), 0xacbc7c9d68860ac8ULL);
  EXPECT_EQ(rng.increment_high(), 0xfa505436c9a8416eULL);
  EXPECT_EQ(rng.increment_low(), 0x66caf2e28d25abffULL);
  EXPECT_EQ(rng.next_uint64(), 14276969152011380360ULL);
  EXPECT_EQ(rng.next_uint64(), 8095878257575067585ULL);
  EXPECT_EQ(rng.next_uint64(), 15838336090824644132ULL);
  NumpyGenerator zero(0);
  EXPECT_EQ(zero.next_uint64(), 11749869230777074271ULL);
  EXPECT_EQ(zero.next_uint64(), 4976686463289251617ULL);
}

TEST(NumpyGenerator, Uint32DrawsSplitOneOutputLowHalfFirst) {
  NumpyGenerator a(7), b(7);
  const uint64_t whole = a.next_uint64();
  EXPECT_EQ(b.next_uint32(), static_cast<uint32_t>(whole));
  EXPECT_EQ(b.next_uint32(), static_cast<uint32_t>(whole >> 32));
  EXPECT_EQ(b.next_uint64(), a.next_uint64());
}

TEST(NumpyGenerator, PermutationsMatchNumpy) {
  // np.random.default_rng(seed).permutation(n)
  EXPECT_EQ(NumpyGenerator(42).permutation(10), (std::vector<int64_t>{5, 6, 0, 7, 3, 2, 4, 9, 1, 8}));
  EXPECT_EQ(NumpyGenerator((1ULL << 63) - 1).permutation(10),
            (std::vector<int64_t>{8, 3, 7, 2, 6, 0, 5, 9, 1, 4}));
  EXPECT_EQ(NumpyGenerator(~0ULL).permutation(7), (std::vector<int64_t>{0, 4, 3, 5, 6, 1, 2}));
  EXPECT_TRUE(NumpyGenerator(1).permutation(0).empty());
  EXPECT_EQ(NumpyGenerator(1).permutation(1), std::vector<int64_t>{0});
}

TEST(NumpyGenerator, PermutationIsAPermutation) {
  std::vector<int64_t> p = NumpyGenerator(3).permutation(5000);
  std::sort(p.begin(), p.end());
  std::vector<int64_t> identity(5000);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(p, identity);
}

TEST(NumpyGenerator, RandomIntervalStaysInRange) {
  NumpyGenerator rng(5);
  EXPECT_EQ(rng.random_interval(0), 0u);
  for (uint64_t max : {1ULL, 2ULL, 1000ULL, 0xffffffffULL, 0x100000000ULL, 0x123456789abULL, ~0ULL})
    for (int i = 0; i < 200; ++i) EXPECT_LE(rng.random_interval(max), max);
}

}  // namespace
}  // namespace finch
