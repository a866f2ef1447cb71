// NumPy's default random generator, bit for bit: `np.random.default_rng(seed)`
// (a SeedSequence hashing the seed into a PCG64 state) and the draws that
// `Generator.permutation(n)` makes. finch needs it to split datasets exactly as
// Hugging Face `datasets` does (`train_test_split(seed=...)` shuffles with
// `np.random.default_rng(seed).permutation(n)`), so that a user can check
// finch's split against Python. Written from numpy 2.x's sources
// (numpy/random/bit_generator.pyx, src/pcg64/pcg64.{h,c}, _generator.pyx,
// src/distributions/distributions.c); tests/parity/gen/make_split_cases.py
// holds numpy's own outputs that the parity test compares against.
#pragma once

#include <cstdint>
#include <vector>

namespace finch {

// numpy.random.SeedSequence(entropy) for a non-negative integer entropy, no
// spawn key and the default pool of 4 words.
class NumpySeedSequence {
 public:
  explicit NumpySeedSequence(uint64_t entropy);
  // generate_state(n_words, np.uint32) / generate_state(n_words, np.uint64).
  std::vector<uint32_t> generate_state_u32(int n_words) const;
  std::vector<uint64_t> generate_state_u64(int n_words) const;

 private:
  uint32_t pool_[4];
};

// Generator(PCG64(seed)), i.e. np.random.default_rng(seed) with an integer seed.
class NumpyGenerator {
 public:
  explicit NumpyGenerator(uint64_t seed);

  // PCG64's raw output (bit_generator.random_raw()): one 128-bit LCG step, then
  // the XSL-RR output of the new state.
  uint64_t next_uint64();
  // NumPy's buffered 32-bit draw: the low half of a fresh 64-bit output, and
  // the high half kept for the next call.
  uint32_t next_uint32();
  // random_interval(max): a uniform integer in [0, max] by masked rejection,
  // from 32-bit draws when max fits in 32 bits, else from 64-bit draws.
  uint64_t random_interval(uint64_t max);
  // Generator.permutation(n): np.arange(n) shuffled in place (Fisher-Yates from
  // the last element down, as Generator.shuffle does for a 1-d array).
  std::vector<int64_t> permutation(int64_t n);

  // The 128-bit state and increment as (high, low) words, for tests.
  uint64_t state_high() const { return static_cast<uint64_t>(state_ >> 64); }
  uint64_t state_low() const { return static_cast<uint64_t>(state_); }
  uint64_t increment_high() const { return static_cast<uint64_t>(increment_ >> 64); }
  uint64_t increment_low() const { return static_cast<uint64_t>(increment_); }

 private:
  unsigned __int128 state_ = 0;
  unsigned __int128 increment_ = 0;
  bool has_uint32_ = false;
  uint32_t uint32_ = 0;
};

}  // namespace finch
