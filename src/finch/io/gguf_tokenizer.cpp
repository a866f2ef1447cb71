#include "finch/io/gguf_tokenizer.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "finch/core/error.h"

namespace finch::gguf {
namespace {

using json = nlohmann::ordered_json;

// llama.cpp's token types (tokenizer.ggml.token_type).
constexpr int64_t kControl = 3, kUserDefined = 4;

// Split regexes for the `tokenizer.ggml.pre` values whose merges were learned
// on text cut differently from GPT-2's pattern (the patterns the models' own
// tokenizer.json files use).
constexpr const char* kLlama3Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kQwen35Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kTekkenSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* kGpt4oSplit =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

const std::map<std::string, const char*, std::less<>> kPreSplits = {
    {"llama3", kLlama3Split},       {"llama-v3", kLlama3Split},  {"llama-bpe", kLlama3Split},
    {"falcon3", kLlama3Split},      {"falcon-h1", kLlama3Split}, {"pixtral", kLlama3Split},
    {"midm-2.0", kLlama3Split},     {"lfm2", kLlama3Split},      {"jina-v5-nano", kLlama3Split},
    {"dbrx", kLlama3Split},         {"smaug-bpe", kLlama3Split}, {"tekken", kTekkenSplit},
    {"qwen2", kQwen2Split},         {"deepseek-r1-qwen", kQwen2Split}, {"kormo", kQwen2Split},
    {"f2llmv2", kQwen2Split},       {"megrez", kQwen2Split},     {"qwen35", kQwen35Split},
    {"gpt-4o", kGpt4oSplit},        {"llama4", kGpt4oSplit},     {"kanana2", kGpt4oSplit},
    {"talkie", kGpt4oSplit},        {"minimax-m2", kGpt4oSplit},
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Byte offsets of every code point boundary of a UTF-8 string (0 and size included).
std::vector<size_t> boundaries(const std::string& s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<uint8_t>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

// GPT-2's byte alphabet: printable bytes stand for themselves, the other 68
// bytes for code points 256.. in byte order.
struct ByteAlphabet {
  std::array<std::string, 256> spelling;
  std::set<std::string> letters;
  ByteAlphabet() {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      append_utf8(spelling[b], printable ? b : next++);
      letters.insert(spelling[b]);
    }
  }
  bool spells(const std::string& token) const {
    const auto cuts = boundaries(token);
    for (size_t k = 0; k + 1 < cuts.size(); ++k)
      if (!letters.count(token.substr(cuts[k], cuts[k + 1] - cuts[k]))) return false;
    return true;
  }
  std::string respell(const std::string& token) const {
    std::string out;
    for (unsigned char c : token) out += spelling[c];
    return out;
  }
};

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

using Merge = std::pair<std::string, std::string>;

// The merges a vocabulary implies (transformers' `generate_merges`): every
// split of every token into two tokens of the vocabulary, each token's splits
// ordered by the ids of their halves; then all of them ordered by the token's
// score, best first (or by its id, lowest first, without scores), ties broken
// by the lengths of the halves in code points. Stable throughout.
std::vector<Merge> derive_merges(const std::vector<std::string>& tokens,
                                 const std::unordered_map<std::string, int64_t>& vocab,
                                 const std::optional<std::vector<double>>& scores) {
  struct Candidate {
    std::string left, right;
    double score;
    size_t left_length, right_length;
  };
  std::vector<Candidate> all;
  // Tokens in first-appearance order, each with its last score (a Python dict built from pairs).
  std::vector<std::string> order;
  std::unordered_map<std::string, double> score_of;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!score_of.count(tokens[i])) order.push_back(tokens[i]);
    score_of[tokens[i]] = scores ? (*scores)[i] : static_cast<double>(vocab.at(tokens[i]));
  }
  for (const auto& token : order) {
    const auto cuts = boundaries(token);
    std::vector<Candidate> local;
    for (size_t k = 1; k + 1 < cuts.size(); ++k) {
      std::string left = token.substr(0, cuts[k]), right = token.substr(cuts[k]);
      if (vocab.count(left) && vocab.count(right))
        local.push_back({std::move(left), std::move(right), score_of[token], k, cuts.size() - 1 - k});
    }
    std::stable_sort(local.begin(), local.end(), [&](const Candidate& a, const Candidate& b) {
      const auto ka = std::make_pair(vocab.at(a.left), vocab.at(a.right));
      const auto kb = std::make_pair(vocab.at(b.left), vocab.at(b.right));
      return ka < kb;
    });
    for (auto& c : local) all.push_back(std::move(c));
  }
  const bool descending = scores.has_value();
  std::stable_sort(all.begin(), all.end(), [&](const Candidate& a, const Candidate& b) {
    const auto ka = std::make_tuple(a.score, a.left_length, a.right_length);
    const auto kb = std::make_tuple(b.score, b.left_length, b.right_length);
    return descending ? kb < ka : ka < kb;
  });
  std::vector<Merge> out;
  out.reserve(all.size());
  for (auto& c : all) out.emplace_back(std::move(c.left), std::move(c.right));
  return out;
}

json added_token(int64_t id, const std::string& content, bool special) {
  return json{{"id", id},          {"content", content}, {"single_word", false}, {"lstrip", false},
              {"rstrip", false},   {"normalized", false}, {"special", special}};
}

json template_piece(const std::string& kind, const std::string& id, int type_id) {
  return json{{kind, json{{"id", id}, {"type_id", type_id}}}};
}

}  // namespace

bool has_tokenizer(const File& file) { return file.has("tokenizer.ggml.model"); }

TokenizerFiles build_tokenizer(const File& file) {
  const std::string where = file.path().string();
  const std::string model = file.get_string("tokenizer.ggml.model");
  const std::string architecture = file.get_string_or("general.architecture").value_or("");
  if (model != "gpt2" && model != "llama")
    fail("{}: tokenizer.ggml.model '{}' is not supported (supported: gpt2, llama)", where, model);
  if (model == "llama" && (architecture == "gemma" || architecture == "gemma2" || architecture == "gemma3" ||
                           architecture == "phi3"))
    fail("{}: the {} sentencepiece tokenizer is not supported (supported: llama-style sentencepiece)", where,
         architecture);

  const std::vector<std::string> tokens = file.get_strings("tokenizer.ggml.tokens");
  std::vector<int64_t> types;
  if (file.has("tokenizer.ggml.token_type")) {
    types = file.get_ints("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      fail("{}: tokenizer.ggml.token_type has {} entries for {} tokens", where, types.size(), tokens.size());
  }
  std::optional<std::vector<double>> scores;
  if (file.has("tokenizer.ggml.scores")) {
    scores = file.get_floats("tokenizer.ggml.scores");
    if (scores->size() != tokens.size())
      fail("{}: tokenizer.ggml.scores has {} entries for {} tokens", where, scores->size(), tokens.size());
  }
  const bool byte_level = model == "gpt2";

  // The vocabulary as the model sees it: byte-level tokens respelled into the byte alphabet.
  const ByteAlphabet& alphabet = byte_alphabet();
  std::vector<std::string> spelled(tokens);
  if (byte_level)
    for (auto& t : spelled)
      if (!alphabet.spells(t)) t = alphabet.respell(t);
  std::unordered_map<std::string, int64_t> vocab;
  for (size_t i = 0; i < spelled.size(); ++i) vocab[spelled[i]] = static_cast<int64_t>(i);

  std::vector<Merge> merges;
  if (file.has("tokenizer.ggml.merges")) {
    for (const auto& m : file.get_strings("tokenizer.ggml.merges")) {
      const size_t space = m.find(' ');
      if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos)
        fail("{}: tokenizer.ggml.merges entry '{}' is not two tokens separated by one space", where, m);
      merges.emplace_back(m.substr(0, space), m.substr(space + 1));
    }
  } else if (byte_level) {
    merges = derive_merges(spelled, vocab, std::nullopt);
  } else {
    if (!scores) fail("{}: a llama tokenizer without merges needs tokenizer.ggml.scores", where);
    merges = derive_merges(spelled, vocab, scores);
  }

  // tokenizer_config.json: special tokens by id, BOS/EOS flags, chat template.
  TokenizerFiles out;
  json& config = out.tokenizer_config;
  const bool add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token").value_or(model == "llama");
  const bool add_eos = file.get_bool_or("tokenizer.ggml.add_eos_token").value_or(false);
  config["add_bos_token"] = add_bos;
  config["add_eos_token"] = add_eos;
  std::map<std::string, std::optional<std::string>> special;
  for (const auto& [name, key] :
       {std::pair{"bos_token", "bos_token_id"}, std::pair{"eos_token", "eos_token_id"},
        std::pair{"unk_token", "unknown_token_id"}, std::pair{"pad_token", "padding_token_id"}}) {
    const std::string full = std::string("tokenizer.ggml.") + key;
    std::optional<std::string> token;
    if (const auto id = file.get_int_or(full)) {
      if (*id < 0 || *id >= static_cast<int64_t>(tokens.size()))
        fail("{}: metadata '{}' is {}, outside the {} tokens", where, full, *id, tokens.size());
      token = tokens[*id];
    }
    special[name] = token;
    config[name] = token ? json(*token) : json(nullptr);
  }
  if (const auto chat = file.get_string_or("tokenizer.chat_template")) config["chat_template"] = *chat;
  config["clean_up_tokenization_spaces"] = false;
  config["tokenizer_class"] = "TokenizersBackend";

  // Added tokens: CONTROL ones (in a byte-level vocabulary only those spelled in
  // the byte alphabet) and the named special tokens are special; USER_DEFINED
  // ones found in the vocabulary are plain added tokens.
  std::map<int64_t, std::pair<std::string, bool>> added;
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i] == kControl && (!byte_level || alphabet.spells(tokens[i])))
      added[vocab.at(spelled[i])] = {tokens[i], true};
  for (const auto& [name, token] : special)
    if (token && vocab.count(*token)) added[vocab.at(*token)] = {*token, true};
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i] == kUserDefined && vocab.count(tokens[i])) {
      const int64_t id = vocab.at(tokens[i]);
      if (!added.count(id)) added[id] = {tokens[i], false};
    }

  json& tok = out.tokenizer;
  tok["version"] = "1.0";
  tok["truncation"] = nullptr;
  tok["padding"] = nullptr;
  tok["added_tokens"] = json::array();
  for (const auto& [id, entry] : added) tok["added_tokens"].push_back(added_token(id, entry.first, entry.second));
  tok["normalizer"] = nullptr;
  if (byte_level) {
    const auto split = kPreSplits.find(file.get_string_or("tokenizer.ggml.pre").value_or(""));
    if (split == kPreSplits.end()) {
      tok["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                              {"use_regex", true}};
    } else {
      tok["pre_tokenizer"] = {
          {"type", "Sequence"},
          {"pretokenizers",
           json::array({json{{"type", "Split"}, {"pattern", {{"Regex", split->second}}}, {"behavior", "Isolated"},
                             {"invert", false}},
                        json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true},
                             {"use_regex", false}}})}};
    }
  } else {
    tok["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "first"},
                            {"split", false}};
  }

  // BOS/EOS around each sequence, as add_bos_token / add_eos_token say.
  json single = json::array(), pair = json::array(), specials = json::object();
  const auto& bos = special["bos_token"];
  const auto& eos = special["eos_token"];
  const bool with_bos = add_bos && bos && vocab.count(*bos);
  const bool with_eos = add_eos && eos && vocab.count(*eos);
  for (int type_id : {0, 1}) {
    if (with_bos) pair.push_back(template_piece("SpecialToken", *bos, type_id));
    pair.push_back(template_piece("Sequence", type_id == 0 ? "A" : "B", type_id));
    if (with_eos) pair.push_back(template_piece("SpecialToken", *eos, type_id));
  }
  if (with_bos) single.push_back(template_piece("SpecialToken", *bos, 0));
  single.push_back(template_piece("Sequence", "A", 0));
  if (with_eos) single.push_back(template_piece("SpecialToken", *eos, 0));
  if (with_bos) specials[*bos] = {{"id", *bos}, {"ids", {vocab.at(*bos)}}, {"tokens", {*bos}}};
  if (with_eos) specials[*eos] = {{"id", *eos}, {"ids", {vocab.at(*eos)}}, {"tokens", {*eos}}};
  tok["post_processor"] = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair},
                           {"special_tokens", specials}};

  if (byte_level) {
    tok["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  } else {
    tok["decoder"] = {
        {"type", "Sequence"},
        {"decoders", json::array({json{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                  json{{"type", "ByteFallback"}}, json{{"type", "Fuse"}},
                                  json{{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}})}};
  }

  json bpe;
  bpe["type"] = "BPE";
  bpe["dropout"] = nullptr;
  bpe["unk_token"] = nullptr;
  bpe["continuing_subword_prefix"] = byte_level ? json("") : json(nullptr);
  bpe["end_of_word_suffix"] = byte_level ? json("") : json(nullptr);
  bpe["fuse_unk"] = !byte_level;
  bpe["byte_fallback"] = !byte_level;
  bpe["ignore_merges"] = false;
  // Ids in order; a token spelled twice keeps its last id, as in a Python dict.
  json vocab_json = json::object();
  for (size_t i = 0; i < spelled.size(); ++i)
    if (vocab.at(spelled[i]) == static_cast<int64_t>(i)) vocab_json[spelled[i]] = static_cast<int64_t>(i);
  bpe["vocab"] = std::move(vocab_json);
  json merges_json = json::array();
  for (auto& [l, r] : merges) merges_json.push_back(json::array({std::move(l), std::move(r)}));
  bpe["merges"] = std::move(merges_json);
  tok["model"] = std::move(bpe);
  return out;
}

}  // namespace finch::gguf
