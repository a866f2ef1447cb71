#include "finch/tokenizer/tokenizer_config.h"

#include <mutex>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/io/json_config.h"
#include "finch/tokenizer/chat_template.h"

namespace finch::tokenizer {

namespace {
// transformers' models/qwen2/tokenization_qwen2.py PRETOKENIZE_REGEX.
constexpr const char* kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::optional<std::string> special_token(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
    return (*it)["content"].get<std::string>();
  fail("{}: {} must be a string or an object with \"content\"", where, key);
}
}  // namespace

TokenizerConfig TokenizerConfig::from_dir(const std::filesystem::path& dir) {
  TokenizerConfig c;
  const auto path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(path)) {
    const std::string where = path.string();
    const nlohmann::json j = read_json_file(path);
    if (!j.is_object()) fail("{}: expected a JSON object", where);
    if (auto it = j.find("tokenizer_class"); it != j.end() && it->is_string()) c.tokenizer_class = it->get<std::string>();
    for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"})
      if (auto token = special_token(j, key, where)) c.special_tokens[key] = *token;
    for (auto [key, flag] : {std::pair{"add_bos_token", &c.add_bos_token}, std::pair{"add_eos_token", &c.add_eos_token},
                             std::pair{"add_prefix_space", &c.add_prefix_space}, std::pair{"legacy", &c.legacy}}) {
      const auto it = j.find(key);
      if (it == j.end() || it->is_null()) continue;
      if (!it->is_boolean()) fail("{}: {} must be true or false", where, key);
      *flag = it->get<bool>();
    }
    if (auto it = j.find("model_max_length"); it != j.end() && it->is_number()) {
      // transformers writes a huge float (VERY_LARGE_INTEGER) when there is no limit.
      const double v = it->get<double>();
      if (v > 0 && v < 1e15) c.model_max_length = static_cast<int64_t>(v);
    }
    if (auto it = j.find("chat_template"); it != j.end() && !it->is_null()) {
      if (it->is_string()) {
        c.chat_templates["default"] = it->get<std::string>();
      } else if (it->is_array()) {
        for (std::size_t i = 0; i < it->size(); ++i) {
          const auto& t = (*it)[i];
          if (!t.is_object() || !t.contains("name") || !t.contains("template") || !t["name"].is_string() ||
              !t["template"].is_string())
            fail("{}: chat_template[{}] must be {{\"name\": ..., \"template\": ...}}", where, i);
          c.chat_templates[t["name"].get<std::string>()] = t["template"].get<std::string>();
        }
      } else {
        fail("{}: chat_template must be a string or a list of {{name, template}}", where);
      }
    }
  }
  if (const auto jinja = dir / "chat_template.jinja"; std::filesystem::exists(jinja))
    c.chat_templates["default"] = read_text_file(jinja);
  return c;
}

const std::string& TokenizerConfig::chat_template(const std::string& name) const {
  const std::string key = name.empty() ? "default" : name;
  const auto it = chat_templates.find(key);
  if (it != chat_templates.end()) return it->second;
  if (chat_templates.empty()) fail("the tokenizer has no chat template (tokenizer_config.json: chat_template)");
  std::string names;
  for (const auto& [n, _] : chat_templates) names += (names.empty() ? "" : ", ") + n;
  fail("no chat template named '{}' (the tokenizer has: {})", key, names);
}

namespace {
// transformers 5 rebuilds the pipeline of a tokenizer.json for the classes
// that define their own __init__ (TokenizersBackend.convert_to_native_format):
// the vocabulary, merges, added tokens and post-processor come from the file,
// the model flags, normalizer, pre-tokenizer and decoder from the class. The
// classes of the families finch supports are rewritten here, as data.
// The special-token defaults of those classes' __init__, used when the config omits them.
std::map<std::string, std::string> transformers_class_defaults(const std::string& cls) {
  if (cls == "LlamaTokenizer" || cls == "LlamaTokenizerFast")
    return {{"unk_token", "<unk>"}, {"bos_token", "<s>"}, {"eos_token", "</s>"}};
  if (cls == "GPT2Tokenizer" || cls == "GPT2TokenizerFast")
    return {{"unk_token", "<|endoftext|>"}, {"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}};
  return {};
}

void apply_transformers_class(nlohmann::json& j, const TokenizerConfig& config) {
  const std::string& cls = config.tokenizer_class;
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object()) return;  // from_json reports it
  auto& model = j["model"];
  if (model.value("type", "") != "BPE") return;
  auto fresh_bpe = [&](bool fuse_unk, bool byte_fallback) {
    model["dropout"] = nullptr;
    model["unk_token"] = nullptr;
    model["continuing_subword_prefix"] = nullptr;
    model["end_of_word_suffix"] = nullptr;
    model["fuse_unk"] = fuse_unk;
    model["byte_fallback"] = byte_fallback;
    model["ignore_merges"] = false;
  };
  if (cls == "LlamaTokenizer" || cls == "LlamaTokenizerFast") {
    const bool add_prefix_space = config.add_prefix_space.value_or(true), legacy = config.legacy.value_or(false);
    fresh_bpe(true, true);
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"split", false},
                          {"prepend_scheme", add_prefix_space ? (legacy ? "always" : "first") : "never"}};
    auto decoders = nlohmann::json::array({{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
                                           {{"type", "ByteFallback"}}, {{"type", "Fuse"}}});
    if (add_prefix_space) decoders.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
    j["decoder"] = {{"type", "Sequence"}, {"decoders", decoders}};
  } else if (cls == "GPT2Tokenizer" || cls == "GPT2TokenizerFast") {
    fresh_bpe(false, false);
    j["normalizer"] = nullptr;
    j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", config.add_prefix_space.value_or(false)}, {"use_regex", true}};
    j["decoder"] = {{"type", "ByteLevel"}};
  } else if (cls == "Qwen2Tokenizer" || cls == "Qwen2TokenizerFast") {
    fresh_bpe(false, false);
    j["normalizer"] = {{"type", "NFC"}};
    j["pre_tokenizer"] = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"}, {"pattern", {{"Regex", kQwen2Pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
          {{"type", "ByteLevel"}, {"add_prefix_space", config.add_prefix_space.value_or(false)}, {"use_regex", false}}}}};
    j["decoder"] = {{"type", "ByteLevel"}};
  }
}
}  // namespace

PretrainedTokenizer PretrainedTokenizer::from_dir(const std::filesystem::path& dir) {
  const auto json_path = dir / "tokenizer.json";
  if (!std::filesystem::exists(json_path))
    fail("{}: no tokenizer.json (finch reads the fast-tokenizer file; convert with transformers or finch import-gguf)",
         dir.string());
  TokenizerConfig config = TokenizerConfig::from_dir(dir);
  for (const auto& [key, value] : transformers_class_defaults(config.tokenizer_class))
    config.special_tokens.emplace(key, value);
  nlohmann::json tokenizer_json = read_json_file(json_path);
  apply_transformers_class(tokenizer_json, config);
  PretrainedTokenizer p{Tokenizer::from_json(tokenizer_json, json_path.string()), std::move(config)};
  // transformers (TokenizersBackend.update_post_processor): when the config
  // sets add_bos_token or add_eos_token, the post-processor becomes
  // [bos] $A [eos] with those flags; a missing bos/eos token turns its flag off.
  if (p.config.add_bos_token || p.config.add_eos_token) {
    std::vector<int32_t> prefix, suffix;
    auto id_of = [&](const char* what) -> std::optional<int32_t> {
      const auto token = p.config.special_tokens.find(what);
      if (token == p.config.special_tokens.end()) return std::nullopt;
      const auto id = p.tokenizer.token_to_id(token->second);
      if (!id) fail("{}: {} '{}' is not in the vocabulary", (dir / "tokenizer_config.json").string(), what, token->second);
      return id;
    };
    if (p.config.add_bos_token.value_or(false))
      if (auto id = id_of("bos_token")) prefix.push_back(*id);
    if (p.config.add_eos_token.value_or(false))
      if (auto id = id_of("eos_token")) suffix.push_back(*id);
    p.tokenizer.set_post_processor([prefix, suffix](std::vector<int32_t> ids) {
      ids.insert(ids.begin(), prefix.begin(), prefix.end());
      ids.insert(ids.end(), suffix.begin(), suffix.end());
      return ids;
    });
  }
  return p;
}

}  // namespace finch::tokenizer

namespace finch::tokenizer {

struct PretrainedTokenizer::TemplateCache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<ChatTemplate>> parsed;
};

std::vector<int32_t> PretrainedTokenizer::encode_prompt(const std::string& text) const {
  const auto bos = config.special_tokens.find("bos_token");
  const bool rendered = bos != config.special_tokens.end() && !bos->second.empty() && text.starts_with(bos->second);
  return tokenizer.encode(text, /*add_special_tokens=*/!rendered);
}

PretrainedTokenizer::PretrainedTokenizer(Tokenizer tokenizer_, TokenizerConfig config_)
    : tokenizer(std::move(tokenizer_)), config(std::move(config_)), templates_(std::make_shared<TemplateCache>()) {}

std::string PretrainedTokenizer::apply_chat_template(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                                     const nlohmann::ordered_json& tools,
                                                     const std::string& template_name) const {
  if (!messages.is_array() || messages.empty()) fail("chat: expected a non-empty JSON array of messages");
  std::string name = template_name;
  if (name.empty()) name = !tools.is_null() && config.chat_templates.count("tool_use") ? "tool_use" : "default";
  std::shared_ptr<ChatTemplate> tmpl;
  {
    std::lock_guard lock(templates_->mutex);
    auto& slot = templates_->parsed[name];
    if (!slot) slot = std::make_shared<ChatTemplate>(config.chat_template(name), "chat_template");
    tmpl = slot;
  }
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  for (const auto& [key, value] : config.special_tokens) context[key] = value;
  nlohmann::ordered_json cleaned = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].is_object()) fail("chat: message {} is not a JSON object", i);
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [key, value] : messages[i].items())
      if (!value.is_null()) m[key] = value;
    // transformers (_alias_reasoning_fields): a message's reasoning, under any
    // of its names, is passed as {"thinking": r, **message, "reasoning_content": r}.
    for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
      if (!m.contains(key)) continue;
      const auto reasoning = m[key];
      nlohmann::ordered_json aliased = {{"thinking", reasoning}};
      for (const auto& [k, v] : m.items()) aliased[k] = v;
      aliased["reasoning_content"] = reasoning;
      m = std::move(aliased);
      break;
    }
    cleaned.push_back(std::move(m));
  }
  context["messages"] = std::move(cleaned);
  context["tools"] = tools;
  context["documents"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  return tmpl->render(context);
}

}  // namespace finch::tokenizer
