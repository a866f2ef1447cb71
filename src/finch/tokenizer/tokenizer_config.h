// tokenizer_config.json (and chat_template.jinja) of a model directory, and
// the tokenizer as transformers' AutoTokenizer assembles it from both files.
#pragma once

#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "finch/tokenizer/tokenizer.h"

namespace finch::tokenizer {

struct TokenizerConfig {
  // The named special tokens set (bos_token, eos_token, unk_token, sep_token,
  // pad_token, cls_token, mask_token; a string or an {"content": ...} object in
  // the file), as the chat template sees them (transformers' special_tokens_map).
  std::map<std::string, std::string> special_tokens;
  // Present only when the file sets them: transformers then rebuilds the
  // post-processor as [bos] $A [eos].
  std::optional<bool> add_bos_token, add_eos_token;
  // Read by the tokenizer classes transformers rebuilds (LlamaTokenizer ...).
  std::optional<bool> add_prefix_space, legacy;
  std::optional<int64_t> model_max_length;
  std::string tokenizer_class;  // transformers' class name, e.g. LlamaTokenizer
  // Chat templates by name ("default" for a single string); a
  // chat_template.jinja file in the directory wins over the JSON value.
  std::map<std::string, std::string> chat_templates;

  static TokenizerConfig from_dir(const std::filesystem::path& dir);
  // The template to use: `name`, or "default" when empty. Error when absent.
  const std::string& chat_template(const std::string& name = "") const;
};

class ChatTemplate;

struct PretrainedTokenizer {
  PretrainedTokenizer(Tokenizer tokenizer, TokenizerConfig config);

  Tokenizer tokenizer;
  TokenizerConfig config;
  // tokenizer.json + tokenizer_config.json of `dir`, pipeline adjusted as transformers does.
  static PretrainedTokenizer from_dir(const std::filesystem::path& dir);

  // A prompt's ids as the training recipe encodes an input: with the special
  // tokens, unless the text already starts with the BOS token's text (a
  // rendered chat template).
  std::vector<int32_t> encode_prompt(const std::string& text) const;

  // transformers' apply_chat_template(..., tokenize=False): message keys whose
  // value is null are dropped and reasoning fields aliased; the context holds
  // messages, tools, documents, add_generation_prompt and the special tokens.
  // `tools` picks the "tool_use" template when the tokenizer has one.
  std::string apply_chat_template(const nlohmann::ordered_json& messages, bool add_generation_prompt,
                                  const nlohmann::ordered_json& tools = nullptr,
                                  const std::string& template_name = "") const;

 private:
  // Templates parsed on first use, by name (shared by copies, guarded for threads).
  struct TemplateCache;
  std::shared_ptr<TemplateCache> templates_;
};

}  // namespace finch::tokenizer
