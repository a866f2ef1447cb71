#include "finch/tokenizer/bpe.h"

#include <fmt/format.h>

#include <queue>

#include "finch/core/error.h"
#include "finch/tokenizer/pipeline.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

Bpe::Bpe(const nlohmann::json& j, const std::string& where) : where_(where) {
  set_vocab(required(j, "vocab", where), where);
  if (auto it = j.find("unk_token"); it != j.end() && !it->is_null()) unk_token_ = it->get<std::string>();
  if (auto it = j.find("continuing_subword_prefix"); it != j.end() && !it->is_null()) prefix_ = it->get<std::string>();
  if (auto it = j.find("end_of_word_suffix"); it != j.end() && !it->is_null()) suffix_ = it->get<std::string>();
  fuse_unk_ = value_or(j, "fuse_unk", false, where);
  byte_fallback_ = value_or(j, "byte_fallback", false, where);
  ignore_merges_ = value_or(j, "ignore_merges", false, where);
  if (auto it = j.find("dropout"); it != j.end() && !it->is_null() && it->get<double>() != 0.0)
    fail("{}.dropout: BPE dropout is not supported (finch encodes deterministically)", where);
  for (int b = 0; b < 256; ++b) byte_ids_[b] = token_to_id(fmt::format("<0x{:02X}>", b)).value_or(-1);

  // merges: "a b" strings or [a, b] pairs; rank = position. The merged token
  // drops b's continuing_subword_prefix.
  const auto& merges = required(j, "merges", where);
  if (!merges.is_array()) fail("{}.merges: expected an array", where);
  const std::size_t prefix_len = prefix_ ? prefix_->size() : 0;
  merges_.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& m = merges[rank];
    std::string a, b;
    if (m.is_string()) {
      const auto& s = m.get_ref<const std::string&>();
      const auto space = s.find(' ');
      if (space == std::string::npos) fail("{}.merges[{}]: expected 'a b', got '{}'", where, rank, s);
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      fail("{}.merges[{}]: expected \"a b\" or [\"a\", \"b\"]", where, rank);
    }
    const std::string what = fmt::format("{}.merges[{}]", where, rank);
    const int32_t a_id = require_id(a, what), b_id = require_id(b, what);
    if (b.size() < prefix_len) fail("{}: '{}' is shorter than the continuing_subword_prefix", what, b);
    const int32_t new_id = require_id(a + b.substr(prefix_len), what);
    merges_[pair_key(a_id, b_id)] = Merge{static_cast<uint32_t>(rank), new_id};
  }
}

void Bpe::tokenize(const std::string& word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto id = token_to_id(word)) return out.push_back(*id);
  }
  const bool cacheable = word.size() < kMaxCachedWord;
  auto& shard = cache_[std::hash<std::string>()(word) % kCacheShards];
  if (cacheable) {
    std::lock_guard lock(shard.mutex);
    if (auto it = shard.words.find(word); it != shard.words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const std::size_t first = out.size();
  merge_word(word, out);
  if (cacheable) {
    std::lock_guard lock(shard.mutex);
    if (shard.words.size() < kCacheCapacity / kCacheShards)
      shard.words.emplace(word, std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(first), out.end()));
  }
}

void Bpe::merge_word(const std::string& word, std::vector<int32_t>& out) const {
  // 1. Characters -> initial symbols.
  std::vector<int32_t> symbols;
  symbols.reserve(word.size());
  std::optional<int32_t> pending_unk;  // tokenizers' order: a pending unk is flushed by the next known char
  std::string piece;
  for (std::size_t i = 0; i < word.size();) {
    const std::size_t begin = i;
    unicode::next_code_point(word, i);
    piece.clear();
    if (begin > 0 && prefix_) piece += *prefix_;
    piece.append(word, begin, i - begin);
    if (i == word.size() && suffix_) piece += *suffix_;
    if (auto id = token_to_id(piece)) {
      if (pending_unk) symbols.push_back(*pending_unk);
      pending_unk.reset();
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (unsigned char b : piece) all &= byte_ids_[b] >= 0;
      if (all) {
        for (unsigned char b : piece) symbols.push_back(byte_ids_[b]);
        continue;
      }
    }
    if (unk_token_) {
      const int32_t unk = require_id(*unk_token_, where_ + ".unk_token");
      if (pending_unk && !fuse_unk_) symbols.push_back(*pending_unk);
      pending_unk = unk;
    }
  }
  if (pending_unk) symbols.push_back(*pending_unk);

  // 2. Merges through a priority queue of (rank, position), as tokenizers'
  // Word::merge_all: stale entries are skipped when popped.
  const std::size_t n = symbols.size();
  std::vector<int> prev(n), next(n);
  std::vector<char> alive(n, 1);
  for (std::size_t k = 0; k < n; ++k) {
    prev[k] = static_cast<int>(k) - 1;
    next[k] = k + 1 < n ? static_cast<int>(k + 1) : -1;
  }
  struct Entry {
    uint32_t rank;
    int pos;
    int32_t new_id;
    bool operator>(const Entry& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  auto push_pair = [&](int pos) {
    if (pos < 0 || next[pos] < 0) return;
    const auto it = merges_.find(pair_key(symbols[pos], symbols[next[pos]]));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.new_id});
  };
  for (std::size_t k = 0; k + 1 < n; ++k) push_pair(static_cast<int>(k));
  while (!queue.empty()) {
    const Entry top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int right = next[top.pos];
    const auto it = merges_.find(pair_key(symbols[top.pos], symbols[right]));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    symbols[top.pos] = top.new_id;
    alive[right] = 0;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    push_pair(prev[top.pos]);
    push_pair(top.pos);
  }
  for (std::size_t k = 0; k < n; ++k)
    if (alive[k]) out.push_back(symbols[k]);
}

}  // namespace finch::tokenizer
