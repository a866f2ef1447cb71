// Tokenized training samples: a prepared {"input", "output"} JSONL split
// turned into token ids and labels, tokenized once and cached beside the file.
//
// The recipe (the seed tools', with masks taken from token spans; never by
// re-tokenising pieces of the text):
//
//   input_ids = encode(input, add_special_tokens=true)
//             + encode(output, add_special_tokens=false)
//             + [eos]
//   * an input that already starts with the BOS token's text (a chat-template
//     render) is encoded with add_special_tokens=false: no double BOS;
//   * EOS (the id of tokenizer_config's eos_token) is not appended when the
//     output text already ends with the EOS token, trailing whitespace aside
//     (a chat rendering's turn ends with "<|im_end|>\n").
//   labels = -100 over the input span, the ids over the output span (EOS
//   included); with train_on_inputs the input span is labelled too.
//   Truncation to max_seq_length keeps the first max_seq_length tokens (cut
//   from the right). A sample with no target left (no label other than -100
//   after its first token: the causal loss never uses a sample's first label)
//   is dropped and counted; the caller reports the count and fails past a
//   threshold.
//
// The cache keeps the untruncated ids and the two span lengths, so
// max_seq_length and train_on_inputs change nothing on disk: they apply at load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "finch/tokenizer/tokenizer_config.h"

namespace finch {
class MappedFile;
}

namespace finch::data {

inline constexpr int64_t kIgnoreIndex = -100;
// Bumped whenever the recipe or the cache layout changes: old caches are rebuilt.
inline constexpr uint32_t kRecipeVersion = 2;

// One row through the recipe: ids of input and output and where they meet.
struct TokenizedRow {
  std::vector<int32_t> ids;
  int64_t input_length = 0;  // ids[0, input_length) came from the input
};

// The tokens and ids the recipe needs from a tokenizer.
struct RecipeTokens {
  std::string bos_text;  // empty: the tokenizer has no bos_token
  std::string eos_text;
  int32_t eos_id = -1;
  static RecipeTokens of(const tokenizer::PretrainedTokenizer& tokenizer);  // error without an eos_token
  bool output_needs_eos(const std::string& output) const {
    const std::size_t end = output.find_last_not_of(" \t\r\n");
    const std::size_t n = end == std::string::npos ? 0 : end + 1;
    return n < eos_text.size() || output.compare(n - eos_text.size(), eos_text.size(), eos_text) != 0;
  }
  bool input_is_rendered(const std::string& input) const {
    return !bos_text.empty() && input.compare(0, bos_text.size(), bos_text) == 0;
  }
};

TokenizedRow tokenize_row(const tokenizer::PretrainedTokenizer& tokenizer, const RecipeTokens& tokens,
                          const std::string& input, const std::string& output);

// A sample ready to batch: ids truncated, labels set.
struct Sample {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;
};

struct SampleOptions {
  int64_t max_seq_length = 0;  // 0: no truncation
  bool train_on_inputs = false;
};

// Truncation and labels for one row; false when no target is left (dropped).
bool make_sample(std::span<const int32_t> ids, int64_t input_length, const SampleOptions& options, Sample& out);

// Bytes of a tokenizer directory's files that decide its ids (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, chat_template.jinja), hashed.
uint64_t tokenizer_fingerprint(const std::filesystem::path& tokenizer_dir);

struct TokenizeOptions {
  int threads = 0;            // 0: all cores
  int64_t chunk_rows = 4096;  // rows read and tokenized at a time
};

// What load() did: reused the cache, or (re)built it and why.
struct CacheReport {
  bool rebuilt = false;
  std::string reason;  // "absent", "corrupt: ...", empty when reused
  std::filesystem::path cache_file;
};

// A tokenized split: every row's untruncated ids and input span, read from
// (or written to) `<stem>.tokens-<key>.bin` beside the JSONL. The key hashes
// the tokenizer fingerprint, the JSONL's size and content and kRecipeVersion;
// caches of the same split under other keys are removed when one is built.
class TokenizedSplit {
 public:
  static TokenizedSplit load(const std::filesystem::path& jsonl, const tokenizer::PretrainedTokenizer& tokenizer,
                             uint64_t tokenizer_fingerprint, const TokenizeOptions& options = {},
                             CacheReport* report = nullptr);

  std::size_t size() const { return input_lengths_.size(); }
  std::span<const int32_t> ids(std::size_t i) const {
    return {tokens_ + offsets_[i], static_cast<std::size_t>(offsets_[i + 1] - offsets_[i])};
  }
  int64_t input_length(std::size_t i) const { return input_lengths_[i]; }
  int64_t num_tokens() const { return offsets_.back(); }

 private:
  std::shared_ptr<MappedFile> file_;  // keeps tokens_ valid
  const int32_t* tokens_ = nullptr;
  std::vector<int64_t> offsets_;  // size() + 1 prefix sums
  std::vector<int64_t> input_lengths_;
  friend struct CacheIo;
};

// The samples of a split after truncation; rows left without a target are
// dropped (counted in dropped()). Sample i of the set is row row(i) of the split.
class SampleSet {
 public:
  SampleSet(std::shared_ptr<const TokenizedSplit> split, const SampleOptions& options);
  // Samples tokenized elsewhere (a program's own data, tests), used as given.
  explicit SampleSet(std::vector<Sample> samples);
  std::size_t size() const { return rows_.size(); }
  int64_t dropped() const { return dropped_; }
  std::size_t row(std::size_t i) const { return rows_[i]; }
  int64_t length(std::size_t i) const;  // tokens after truncation
  Sample get(std::size_t i) const;

 private:
  int64_t length_of(std::size_t row) const;
  std::shared_ptr<const TokenizedSplit> split_;  // null when the samples were given
  std::vector<Sample> given_;
  SampleOptions options_;
  std::vector<std::size_t> rows_;
  int64_t dropped_ = 0;
};

// Reports a set's dropped rows (a warning naming `where`, e.g. the JSONL) and
// fails when more than `max_fraction` of the rows were dropped.
void check_dropped(const SampleSet& set, const std::string& where, int64_t max_seq_length, double max_fraction);

}  // namespace finch::data
