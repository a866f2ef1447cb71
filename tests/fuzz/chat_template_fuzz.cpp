// libFuzzer target for the chat-template interpreter: any byte string, taken
// as a template, must parse and render with a small fixed context or raise
// finch::Error; a crash, hang, sanitizer report or any other exception is a bug.
// The limits are tighter than the defaults so that runaway loops and output
// stop well inside libFuzzer's per-input timeout.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "finch/core/error.h"
#include "finch/tokenizer/chat_template.h"

namespace {

const nlohmann::ordered_json& context() {
  static const auto ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hi {{ there }}"}, {"type": "image"}]},
      {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {"x": 1.5, "y": [true, null]}}}]},
      {"role": "tool", "content": "42", "tool_call_id": "c1"},
      {"role": "user", "content": "  Grüße 🌍\n"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "documents": null,
    "add_generation_prompt": true,
    "bos_token": "<s>", "eos_token": "</s>"
  })");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  finch::tokenizer::jinja::Limits limits;
  limits.max_output_bytes = 1 << 20;
  limits.max_loop_iterations = 200'000;
  limits.max_call_depth = 50;
  try {
    finch::tokenizer::ChatTemplate tpl(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz", limits);
    (void)tpl.render(context());
  } catch (const finch::Error&) {
  }
  return 0;
}
