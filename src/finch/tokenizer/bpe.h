// Byte-pair encoding, as HF tokenizers' models/bpe: characters (with
// continuing_subword_prefix / end_of_word_suffix) -> ids, unknown characters
// -> byte fallback or unk, then merges applied lowest rank first, leftmost on ties.
#pragma once

#include <mutex>
#include <optional>

#include "finch/tokenizer/model.h"

namespace finch::tokenizer {

class Bpe final : public Model {
 public:
  Bpe(const nlohmann::json& j, const std::string& where);
  void tokenize(const std::string& word, std::vector<int32_t>& out) const override;

 private:
  void merge_word(const std::string& word, std::vector<int32_t>& out) const;

  struct PairHash {
    std::size_t operator()(uint64_t key) const { return std::hash<uint64_t>()(key * 0x9E3779B97F4A7C15ull); }
  };
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }

  std::unordered_map<uint64_t, Merge, PairHash> merges_;
  std::optional<std::string> unk_token_, prefix_, suffix_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  std::array<int32_t, 256> byte_ids_{};  // <0xXX> ids, -1 where absent
  std::string where_;

  // Words seen before (most text repeats its words): sharded to keep threads apart.
  static constexpr std::size_t kCacheShards = 16, kCacheCapacity = 10000, kMaxCachedWord = 256;
  struct CacheShard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>> words;
  };
  mutable std::array<CacheShard, kCacheShards> cache_;
};

}  // namespace finch::tokenizer
