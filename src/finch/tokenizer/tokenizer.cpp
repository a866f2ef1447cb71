#include "finch/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "finch/core/error.h"
#include "finch/io/json_config.h"
#include "finch/tokenizer/model.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_file(const std::filesystem::path& path) {
  return from_json(read_json_file(path), path.string());
}

Tokenizer Tokenizer::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    return build(j, where);
  } catch (const nlohmann::json::exception& e) {
    // A value of the wrong JSON type deep in a component (the stages read
    // their keys directly): still one line naming the file.
    fail("{}: unexpected JSON structure: {}", where, e.what());
  }
}

Tokenizer Tokenizer::build(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected a JSON object", where);
  Tokenizer t;
  t.where_ = where;
  t.model_ = make_model(required(j, "model", where), where + ": model");
  t.normalizer_ = make_normalizer(j.value("normalizer", nlohmann::json()), where + ": normalizer");
  t.pre_tokenizer_ = make_pre_tokenizer(j.value("pre_tokenizer", nlohmann::json()), where + ": pre_tokenizer");
  t.post_processor_ = make_post_processor(j.value("post_processor", nlohmann::json()), where + ": post_processor");
  t.decoder_ = make_decoder(j.value("decoder", nlohmann::json()), where + ": decoder");
  if (auto it = j.find("added_tokens"); it != j.end() && !it->is_null()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& a = (*it)[i];
      const std::string at = fmt::format("{}: added_tokens[{}]", where, i);
      AddedToken token;
      token.id = required(a, "id", at).get<int32_t>();
      token.content = required(a, "content", at).get<std::string>();
      token.single_word = value_or(a, "single_word", false, at);
      token.lstrip = value_or(a, "lstrip", false, at);
      token.rstrip = value_or(a, "rstrip", false, at);
      token.special = value_or(a, "special", false, at);
      token.normalized = value_or(a, "normalized", !token.special, at);
      if (token.content.empty()) continue;
      t.added_.push_back(std::move(token));
    }
  }
  for (std::size_t k = 0; k < t.added_.size(); ++k) {
    const auto& a = t.added_[k];
    if (!a.normalized) {
      t.raw_patterns_.add(k, a.content);
    } else {
      std::string text = a.content;
      if (t.normalizer_) t.normalizer_(text);
      if (!text.empty()) t.normalized_patterns_.add(k, text);
    }
    t.added_by_id_[a.id] = k;
    // tokenizers decodes a normalized added token as its normalized text.
    if (a.normalized && t.normalizer_) {
      std::string text = a.content;
      t.normalizer_(text);
      t.added_[k].decode_as = text;
    }
    if (a.special) t.special_contents_.insert(a.content);
  }
  return t;
}

namespace {
bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t i = 0;
  return unicode::is_word_char(unicode::next_code_point(s, i));
}
bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  std::size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return unicode::is_word_char(unicode::next_code_point(s, start));
}
// Byte offset where the trailing whitespace of s begins.
std::size_t trailing_space_start(std::string_view s) {
  std::size_t end = s.size();
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::size_t i = start;
    if (!unicode::is_whitespace(unicode::next_code_point(s, i))) break;
    end = start;
  }
  return end;
}
std::size_t leading_space_end(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t next = i;
    if (!unicode::is_whitespace(unicode::next_code_point(s, next))) break;
    i = next;
  }
  return i;
}
}  // namespace

void Tokenizer::PatternSet::add(std::size_t token, std::string text) {
  by_first_byte[static_cast<unsigned char>(text[0])].push_back(patterns.size());
  patterns.push_back({token, std::move(text)});
}

// AddedVocabulary::find_matches: leftmost-longest, non-overlapping matches of
// the added tokens; single_word, lstrip and rstrip as tokenizers applies them.
void Tokenizer::split_added(const std::string& text, bool normalized_set, bool at_start,
                            std::vector<Piece>& out) const {
  const PatternSet& set = normalized_set ? normalized_patterns_ : raw_patterns_;
  const auto& patterns = set.patterns;
  std::size_t offset = 0;  // end of the last emitted match
  std::size_t scan = 0;    // where the search resumes
  while (!patterns.empty() && scan < text.size()) {
    // Leftmost start, then longest.
    std::size_t best_start = std::string::npos, best_len = 0, best = 0;
    for (std::size_t pos = scan; pos < text.size() && best_start == std::string::npos; ++pos) {
      for (std::size_t k : set.by_first_byte[static_cast<unsigned char>(text[pos])]) {
        const auto& p = patterns[k].text;
        if (p.size() > best_len && text.compare(pos, p.size(), p) == 0) {
          best_start = pos;
          best_len = p.size();
          best = k;
        }
      }
    }
    if (best_start == std::string::npos) break;
    std::size_t start = best_start, stop = best_start + best_len;
    scan = stop;
    const AddedToken& token = added_[patterns[best].token];
    if (token.single_word) {
      const bool start_ok = start == 0 || !ends_with_word(std::string_view(text).substr(0, start));
      const bool stop_ok = stop == text.size() || !starts_with_word(std::string_view(text).substr(stop));
      if (!start_ok || !stop_ok) continue;
    }
    if (token.lstrip) start = std::max(trailing_space_start(std::string_view(text).substr(0, start)), offset);
    if (token.rstrip) stop += leading_space_end(std::string_view(text).substr(stop));
    if (offset < start) out.push_back({text.substr(offset, start - offset), -1, at_start && offset == 0});
    out.push_back({std::string(), token.id, false});
    offset = stop;
    scan = stop;
  }
  if (offset < text.size()) out.push_back({text.substr(offset), -1, at_start && offset == 0});
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, bool add_special_tokens) const {
  if (!unicode::is_valid_utf8(input)) fail("text to encode is not valid UTF-8");
  // 1. Added tokens that match the raw text; 2. normalize the rest and match
  // the normalized added tokens in it.
  std::vector<Piece> raw;
  split_added(std::string(input), false, true, raw);
  std::vector<Piece> pieces;
  for (auto& p : raw) {
    if (p.added_id >= 0) {
      pieces.push_back(std::move(p));
      continue;
    }
    bool at_start = p.at_start;
    if (normalizer_) {
      // Metaspace's "first" scheme asks whether a piece begins at original
      // offset 0; a normalizer that drops the leading character (Strip, a
      // Replace with "", control-character cleaning) moves that start on.
      // tokenizers tracks full alignments; the first character alone decides it here.
      if (at_start && !p.text.empty()) {
        std::size_t i = 0;
        unicode::next_code_point(p.text, i);
        std::string first = p.text.substr(0, i);
        normalizer_(first);
        at_start = !first.empty();
      }
      normalizer_(p.text);
    }
    split_added(p.text, true, at_start, pieces);
  }
  // 3. Pre-tokenize and run the model on each text piece.
  std::vector<int32_t> ids;
  ids.reserve(input.size() / 3 + 4);
  std::vector<Split> splits;
  for (auto& p : pieces) {
    if (p.added_id >= 0) {
      ids.push_back(p.added_id);
      continue;
    }
    splits.clear();
    splits.push_back({std::move(p.text), p.at_start});
    if (pre_tokenizer_) pre_tokenizer_(splits);
    for (const auto& s : splits)
      if (!s.text.empty()) model_->tokenize(s.text, ids);
  }
  if (add_special_tokens && post_processor_) ids = post_processor_(std::move(ids));
  return ids;
}

std::vector<std::vector<int32_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                          bool add_special_tokens, int threads) const {
  std::vector<std::vector<int32_t>> out(texts.size());
  const std::size_t workers = std::min<std::size_t>(
      texts.size(), threads > 0 ? static_cast<std::size_t>(threads) : std::max(1u, std::thread::hardware_concurrency()));
  if (workers <= 1) {
    for (std::size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], add_special_tokens);
    return out;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  for (std::size_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < texts.size();) {
        try {
          out[i] = encode(texts[i], add_special_tokens);
        } catch (...) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
          next = texts.size();
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    // Added tokens first, then the model; specials are told apart by their text.
    const std::string* token = nullptr;
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
      const AddedToken& a = added_[it->second];
      token = a.decode_as.empty() ? &a.content : &a.decode_as;
    } else {
      token = model_->id_to_token(id);
    }
    if (token == nullptr || (skip_special_tokens && special_contents_.count(*token))) continue;
    tokens.push_back(*token);
  }
  if (!decoder_) {
    std::string out;
    for (std::size_t i = 0; i < tokens.size(); ++i) out += (i ? " " : "") + tokens[i];
    return out;
  }
  decoder_(tokens);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

std::optional<int32_t> Tokenizer::token_to_id(const std::string& token) const {
  for (const auto& a : added_)
    if (a.content == token) return a.id;
  return model_->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_[it->second].content;
  if (const std::string* token = model_->id_to_token(id)) return *token;
  return std::nullopt;
}

std::size_t Tokenizer::vocab_size() const {
  std::size_t size = model_->vocab_size();
  for (const auto& a : added_)
    if (!model_->id_to_token(a.id)) ++size;
  return size;
}

}  // namespace finch::tokenizer
