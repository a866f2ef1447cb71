#include "finch/tokenizer/model.h"

#include "finch/core/error.h"
#include "finch/tokenizer/bpe.h"
#include "finch/tokenizer/pipeline.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

std::optional<int32_t> Model::token_to_id(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* Model::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<std::size_t>(id) >= by_id_.size()) return nullptr;
  return by_id_[id];
}

void Model::set_vocab(const nlohmann::json& vocab, const std::string& where) {
  if (!vocab.is_object()) fail("{}.vocab: expected an object of token -> id", where);
  vocab_.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    // Vocabularies are dense: an id far beyond the vocabulary size is a broken file.
    const int64_t limit = static_cast<int64_t>(vocab.size()) + 10'000'000;
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > limit)
      fail("{}.vocab: id of token '{}' must be an integer in [0, {}]", where, token, limit);
    vocab_[token] = id.get<int32_t>();
  }
  for (const auto& [token, id] : vocab_) {
    if (static_cast<std::size_t>(id) >= by_id_.size()) by_id_.resize(static_cast<std::size_t>(id) + 1, nullptr);
    by_id_[id] = &token;
  }
}

int32_t Model::require_id(const std::string& token, const std::string& where) const {
  const auto id = token_to_id(token);
  if (!id) fail("{}: token '{}' is not in the vocabulary", where, token);
  return *id;
}

namespace {

class WordPiece final : public Model {
 public:
  WordPiece(const nlohmann::json& j, const std::string& where) {
    set_vocab(required(j, "vocab", where), where);
    unk_ = value_or<std::string>(j, "unk_token", "[UNK]", where);
    prefix_ = value_or<std::string>(j, "continuing_subword_prefix", "##", where);
    max_chars_ = value_or<std::size_t>(j, "max_input_chars_per_word", 100, where);
    where_ = where;
  }

  void tokenize(const std::string& word, std::vector<int32_t>& out) const override {
    if (unicode::count_code_points(word) > max_chars_) return out.push_back(unk_id());
    const std::size_t first = out.size();
    std::string candidate;
    for (std::size_t start = 0; start < word.size();) {
      std::size_t end = word.size();
      std::optional<int32_t> found;
      while (start < end) {
        candidate.assign(start > 0 ? prefix_ : std::string());
        candidate.append(word, start, end - start);
        if ((found = token_to_id(candidate))) break;
        do --end;  // back off one whole character
        while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (!found) {
        out.resize(first);
        return out.push_back(unk_id());
      }
      out.push_back(*found);
      start = end;
    }
  }

 private:
  int32_t unk_id() const { return require_id(unk_, where_ + ".unk_token"); }
  std::string unk_, prefix_, where_;
  std::size_t max_chars_ = 100;
};

}  // namespace

std::unique_ptr<Model> make_model(const nlohmann::json& j, const std::string& where) {
  std::string type = stage_type(j, where);
  if (type.empty()) {  // files written before "type" existed: tell the models apart by their keys
    if (j.contains("merges")) type = "BPE";
    else if (j.contains("max_input_chars_per_word")) type = "WordPiece";
    else if (j.contains("vocab") && j["vocab"].is_array()) type = "Unigram";
  }
  if (type == "BPE") return std::make_unique<Bpe>(j, where);
  if (type == "WordPiece") return std::make_unique<WordPiece>(j, where);
  if (type == "Unigram" || type == "WordLevel")
    fail("{}: model type {} is not supported (finch supports BPE and WordPiece)", where, type);
  fail("{}: unknown model type '{}' (finch supports BPE and WordPiece)", where, type);
}

}  // namespace finch::tokenizer
