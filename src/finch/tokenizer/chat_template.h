// Chat templates: renders a model's Jinja chat template to exactly the text
// transformers' `apply_chat_template(..., tokenize=False)` produces (jinja2
// 3.1 in an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks,
// loopcontrols, {% generation %}, tojson, raise_exception, strftime_now).
// See docs/chat_templates.md.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "finch/tokenizer/jinja/limits.h"

namespace finch::tokenizer {

namespace jinja {
struct Stmt;
}

class ChatTemplate {
 public:
  // Parses once. Syntax errors, unknown filters and tests are a finch::Error
  // "<name>:<line>:<col>: <what>", as jinja2 rejects them at compile time.
  ChatTemplate(std::string_view source, std::string name, jinja::Limits limits = {});
  ~ChatTemplate();
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

  // context: {"messages": [...], "add_generation_prompt": bool, "tools": [...] or null,
  // "documents": ..., "bos_token": "...", ... any other kwargs}. A key that is absent
  // is undefined in the template; transformers always passes `tools` and `documents`
  // (None when not given), so callers matching it pass them as null.
  // Object keys keep their order with ordered_json (tojson prints them in that
  // order); plain json objects are sorted by key. Thread-safe.
  std::string render(const nlohmann::ordered_json& context) const;
  std::string render(const nlohmann::json& context) const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  jinja::Limits limits_;
  std::unique_ptr<std::vector<std::unique_ptr<jinja::Stmt>>> body_;
};

}  // namespace finch::tokenizer
