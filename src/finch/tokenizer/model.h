// Tokenizer models: a pre-token (one word) -> ids. BPE and WordPiece, with
// the semantics of HF tokenizers (models/bpe, models/wordpiece).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace finch::tokenizer {

class Model {
 public:
  virtual ~Model() = default;
  // Appends the ids of one pre-token (never empty).
  virtual void tokenize(const std::string& word, std::vector<int32_t>& out) const = 0;

  std::optional<int32_t> token_to_id(const std::string& token) const;
  const std::string* id_to_token(int32_t id) const;  // nullptr when unknown
  std::size_t vocab_size() const { return vocab_.size(); }

 protected:
  // Reads {"token": id, ...}; `where` names the JSON path in errors.
  void set_vocab(const nlohmann::json& vocab, const std::string& where);
  int32_t require_id(const std::string& token, const std::string& where) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<const std::string*> by_id_;  // id -> key in vocab_ (nullptr for holes)
};

// Builds the model of tokenizer.json's "model" object. Unigram (and anything
// else) is an error naming the type.
std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& where);

}  // namespace finch::tokenizer
