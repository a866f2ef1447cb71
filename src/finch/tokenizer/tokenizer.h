// A tokenizer loaded from a model's tokenizer.json, producing the ids of HF
// tokenizers' Tokenizer.encode (truncation and padding off) and its decode.
//
//   text -> split on added tokens -> normalize -> pre-tokenize -> model -> post-process
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finch/tokenizer/pipeline.h"

namespace finch::tokenizer {

class Model;

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool single_word = false, lstrip = false, rstrip = false, normalized = true, special = false;
  std::string decode_as;  // normalized content, for normalized tokens (empty: content)
};

class Tokenizer {
 public:
  static Tokenizer from_file(const std::filesystem::path& path);
  // `where` names the source in errors (a path, or "tokenizer.json").
  static Tokenizer from_json(const nlohmann::json& j, const std::string& where);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // `text` must be valid UTF-8 (an error otherwise).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const;
  // Encodes many texts on `threads` threads (0: all cores); results in input order.
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string>& texts, bool add_special_tokens,
                                                 int threads = 0) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  std::optional<int32_t> token_to_id(const std::string& token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  // Model vocabulary plus added tokens beyond it (tokenizers' get_vocab_size(true)).
  std::size_t vocab_size() const;

  // Replaces the post-processor (transformers does this when tokenizer_config.json
  // sets add_bos_token / add_eos_token).
  void set_post_processor(PostProcessor post_processor) { post_processor_ = std::move(post_processor); }

 private:
  Tokenizer();
  static Tokenizer build(const nlohmann::json& j, const std::string& where);
  // Pieces of `text`: either an added token's id or text still to tokenize.
  struct Piece {
    std::string text;
    int32_t added_id = -1;
    bool at_start = false;
  };
  void split_added(const std::string& text, bool normalized_set, bool at_start, std::vector<Piece>& out) const;

  std::unique_ptr<Model> model_;
  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  PostProcessor post_processor_;
  Decoder decoder_;
  std::vector<AddedToken> added_;
  // Added tokens matched on the raw text (normalized=false) and on normalized
  // text (normalized=true, their content normalized): index into added_ and
  // the string to look for.
  struct Pattern {
    std::size_t token;
    std::string text;
  };
  struct PatternSet {
    std::vector<Pattern> patterns;
    std::array<std::vector<std::size_t>, 256> by_first_byte;  // candidates per first byte
    void add(std::size_t token, std::string text);
  };
  PatternSet raw_patterns_, normalized_patterns_;
  std::unordered_map<int32_t, std::size_t> added_by_id_;
  std::unordered_set<std::string> special_contents_;
  std::string where_;
};

}  // namespace finch::tokenizer
