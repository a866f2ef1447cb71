// finch tokenize: text or chat messages -> token ids (JSON), and ids -> text.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <fstream>

#include "finch/cli/commands.h"
#include "finch/core/error.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::cli {
namespace {

struct TokenizeOptions {
  std::string model_dir;
  std::string text;
  std::string file;
  bool chat = false;
  bool add_generation_prompt = false;
  bool no_special = false;
  bool decode = false;
};

// One input (a --text value or a line of --file) -> one output line.
std::string run_one(const tokenizer::PretrainedTokenizer& tok, const TokenizeOptions& o, const std::string& input,
                    bool from_file, const std::string& where) {
  using nlohmann::ordered_json;
  auto parse = [&](const std::string& s) {
    try {
      return ordered_json::parse(s);
    } catch (const nlohmann::json::exception&) {
      fail("{}: not valid JSON", where);
    }
  };
  if (o.decode) {
    const auto j = parse(input);
    if (!j.is_array()) fail("{}: expected a JSON array of token ids", where);
    std::vector<int32_t> ids;
    for (const auto& v : j) {
      if (!v.is_number_integer()) fail("{}: expected a JSON array of token ids", where);
      ids.push_back(v.get<int32_t>());
    }
    return ordered_json(tok.tokenizer.decode(ids, /*skip_special_tokens=*/o.no_special)).dump();
  }
  if (o.chat) {
    // transformers' apply_chat_template(tokenize=True): the rendered text is
    // encoded without adding special tokens (the template wrote them).
    auto j = parse(input);
    ordered_json tools = nullptr;
    if (j.is_object() && j.contains("messages")) {
      if (j.contains("tools")) tools = j["tools"];
      j = j["messages"];
    }
    if (!j.is_array())
      fail("{}: expected a JSON array of messages (or {{\"messages\": [...], \"tools\"?: [...]}})", where);
    const std::string text = tok.apply_chat_template(j, o.add_generation_prompt, tools);
    return ordered_json{{"text", text}, {"ids", tok.tokenizer.encode(text, false)}}.dump();
  }
  std::string text = input;
  if (from_file) {  // a line of --file is a JSON string or {"text": ...}
    const auto j = parse(input);
    if (j.is_string()) text = j.get<std::string>();
    else if (j.is_object() && j.contains("text") && j["text"].is_string()) text = j["text"].get<std::string>();
    else fail("{}: expected a JSON string or {{\"text\": \"...\"}}", where);
  }
  return ordered_json(tok.tokenizer.encode(text, !o.no_special)).dump();
}

void run_tokenize(const TokenizeOptions& o) {
  const auto tok = tokenizer::PretrainedTokenizer::from_dir(o.model_dir);
  if (!o.file.empty()) {
    std::ifstream in(o.file);
    if (!in) fail("{}: cannot open", o.file);
    std::string line;
    for (int64_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      fmt::print("{}\n", run_one(tok, o, line, true, fmt::format("{} line {}", o.file, n)));
    }
    return;
  }
  fmt::print("{}\n", run_one(tok, o, o.text, false, "--text"));
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Text or chat messages -> token ids (JSON), and ids -> text");
  cmd->add_option("--model", o->model_dir, "model directory with tokenizer.json (+ tokenizer_config.json)")->required();
  auto* text = cmd->add_option("--text", o->text,
                               "one input: text; with --chat a JSON messages array or {\"messages\", \"tools\"}; with --decode a JSON id array");
  auto* file = cmd->add_option("--file", o->file,
                               "JSONL inputs, one per line: a JSON string or {\"text\": ...}; with --chat a messages "
                               "array or {\"messages\": [...], \"tools\"?: [...]}; with --decode an id array. "
                               "Prints one line each");
  text->excludes(file);
  file->excludes(text);
  cmd->add_flag("--chat", o->chat,
                "render the input messages (and tools) with the model's chat template; prints {\"text\", \"ids\"}");
  cmd->add_flag("--add-generation-prompt", o->add_generation_prompt,
                "with --chat: end with the assistant turn's opening, as add_generation_prompt=True");
  cmd->add_flag("--no-special", o->no_special,
                "do not add special tokens (add_special_tokens=False); with --decode, skip special tokens");
  cmd->add_flag("--decode", o->decode, "turn id arrays back into text (printed as JSON strings)");
  cmd->callback([o, text, file] {
    if (text->count() == 0 && file->count() == 0) fail("tokenize: give --text or --file");
    if (o->chat && o->decode) fail("tokenize: --chat and --decode cannot be combined");
    run_tokenize(*o);
  });
}

}  // namespace finch::cli
