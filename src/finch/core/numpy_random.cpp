// NumPy's SeedSequence, PCG64 and permutation; see numpy_random.h.
#include "finch/core/numpy_random.h"

#include <utility>

#include "finch/core/error.h"

namespace finch {
namespace {

// SeedSequence's hash constants (bit_generator.pyx). All arithmetic is on
// uint32 and wraps, as in NumPy.
constexpr uint32_t kInitA = 0x43b0d7e5u;
constexpr uint32_t kMultA = 0x931e8875u;
constexpr uint32_t kInitB = 0x8b51f9ddu;
constexpr uint32_t kMultB = 0x58f38dedu;
constexpr uint32_t kMixMultL = 0xca01f9ddu;
constexpr uint32_t kMixMultR = 0x4973f715u;
constexpr int kXShift = 16;  // half the bits of a uint32
constexpr int kPoolSize = 4;

// Hashes one word with a multiplier that advances on every call.
uint32_t hashmix(uint32_t value, uint32_t& hash_const) {
  value ^= hash_const;
  hash_const *= kMultA;
  value *= hash_const;
  value ^= value >> kXShift;
  return value;
}

uint32_t mix(uint32_t x, uint32_t y) {
  uint32_t result = kMixMultL * x - kMixMultR * y;
  result ^= result >> kXShift;
  return result;
}

// PCG64's 128-bit LCG multiplier (PCG_DEFAULT_MULTIPLIER_128).
constexpr unsigned __int128 kPcgMultiplier =
    (static_cast<unsigned __int128>(2549297995355413924ULL) << 64) | 4865540595714422341ULL;

}  // namespace

NumpySeedSequence::NumpySeedSequence(uint64_t entropy) {
  // A Python int becomes uint32 words, lowest first; 0 is one word [0].
  std::vector<uint32_t> words{static_cast<uint32_t>(entropy)};
  if (entropy >> 32) words.push_back(static_cast<uint32_t>(entropy >> 32));

  // mix_entropy: hash the entropy into the pool (zeros past its end), then mix
  // every pool word into every other so late words affect early ones. The
  // entropy here never exceeds the pool, so no words are left to fold in.
  uint32_t hash_const = kInitA;
  for (int i = 0; i < kPoolSize; ++i)
    pool_[i] = hashmix(i < static_cast<int>(words.size()) ? words[i] : 0u, hash_const);
  for (int src = 0; src < kPoolSize; ++src)
    for (int dst = 0; dst < kPoolSize; ++dst)
      if (src != dst) pool_[dst] = mix(pool_[dst], hashmix(pool_[src], hash_const));
}

std::vector<uint32_t> NumpySeedSequence::generate_state_u32(int n_words) const {
  std::vector<uint32_t> state(n_words);
  uint32_t hash_const = kInitB;
  for (int i = 0; i < n_words; ++i) {
    uint32_t value = pool_[i % kPoolSize];  // cycles through the pool
    value ^= hash_const;
    hash_const *= kMultB;
    value *= hash_const;
    value ^= value >> kXShift;
    state[i] = value;
  }
  return state;
}

std::vector<uint64_t> NumpySeedSequence::generate_state_u64(int n_words) const {
  // Twice the uint32 words, paired little-endian: the first word is the low half.
  const std::vector<uint32_t> halves = generate_state_u32(2 * n_words);
  std::vector<uint64_t> state(n_words);
  for (int i = 0; i < n_words; ++i)
    state[i] = static_cast<uint64_t>(halves[2 * i]) | (static_cast<uint64_t>(halves[2 * i + 1]) << 32);
  return state;
}

NumpyGenerator::NumpyGenerator(uint64_t seed) {
  // PCG64(SeedSequence(seed)): four uint64 words; words 0,1 are the initial
  // state (high, low) and words 2,3 the stream selector (high, low).
  const std::vector<uint64_t> words = NumpySeedSequence(seed).generate_state_u64(4);
  const unsigned __int128 initstate = (static_cast<unsigned __int128>(words[0]) << 64) | words[1];
  const unsigned __int128 initseq = (static_cast<unsigned __int128>(words[2]) << 64) | words[3];
  // pcg_setseq_128_srandom_r: odd increment from the stream, then step, add
  // the initial state, step again.
  increment_ = (initseq << 1) | 1u;
  state_ = 0;
  state_ = state_ * kPcgMultiplier + increment_;
  state_ += initstate;
  state_ = state_ * kPcgMultiplier + increment_;
}

uint64_t NumpyGenerator::next_uint64() {
  state_ = state_ * kPcgMultiplier + increment_;
  // XSL-RR: xor the halves, rotate right by the top 6 bits of the state.
  const uint64_t high = static_cast<uint64_t>(state_ >> 64);
  const uint64_t folded = high ^ static_cast<uint64_t>(state_);
  const unsigned rotation = static_cast<unsigned>(high >> 58);
  return (folded >> rotation) | (folded << ((64u - rotation) & 63u));
}

uint32_t NumpyGenerator::next_uint32() {
  if (has_uint32_) {
    has_uint32_ = false;
    return uint32_;
  }
  const uint64_t next = next_uint64();
  has_uint32_ = true;
  uint32_ = static_cast<uint32_t>(next >> 32);
  return static_cast<uint32_t>(next);
}

uint64_t NumpyGenerator::random_interval(uint64_t max) {
  if (max == 0) return 0;
  // The smallest all-ones mask covering max; draws above max are rejected.
  uint64_t mask = max;
  for (int shift = 1; shift <= 32; shift *= 2) mask |= mask >> shift;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    do value = next_uint32() & mask;
    while (value > max);
  } else {
    do value = next_uint64() & mask;
    while (value > max);
  }
  return value;
}

std::vector<int64_t> NumpyGenerator::permutation(int64_t n) {
  FINCH_CHECK(n >= 0, "permutation of a negative length {}", n);
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[i] = i;
  // _shuffle_raw with first = 1: i runs n-1 down to 1, each swapped with a
  // uniform position in [0, i].
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<int64_t>(random_interval(static_cast<uint64_t>(i)));
    std::swap(values[i], values[j]);
  }
  return values;
}

}  // namespace finch
