#include "finch/infer/run.h"

#include <chrono>
#include <fstream>
#include <numeric>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/io/hub.h"
#include "finch/infer/packed_linear.h"
#include "finch/model/load.h"
#include "finch/peft/lora.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::infer {
namespace {

namespace fs = std::filesystem;

struct Prompt {
  nlohmann::ordered_json source;  // what the output line echoes
  std::string text;               // the rendered prompt
};

std::string render(const tokenizer::PretrainedTokenizer& tok, const nlohmann::ordered_json& messages) {
  return tok.apply_chat_template(messages, /*add_generation_prompt=*/true);
}

std::string as_prompt(const tokenizer::PretrainedTokenizer& tok, const std::string& text, bool chat) {
  if (!chat) return text;
  return render(tok, nlohmann::ordered_json::array({{{"role", "user"}, {"content", text}}}));
}

std::vector<Prompt> read_prompts(const GenerateOptions& o, const tokenizer::PretrainedTokenizer& tok) {
  std::vector<Prompt> prompts;
  for (const auto& p : o.prompts) prompts.push_back({nlohmann::ordered_json{{"prompt", p}}, as_prompt(tok, p, o.chat)});
  if (o.input.empty()) return prompts;
  std::ifstream in(o.input);
  if (!in) fail("{}: cannot open the input file", o.input);
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", o.input, n);
    nlohmann::ordered_json row;
    try {
      row = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail("{}: not valid JSON ({})", where, e.what());
    }
    if (!row.is_object()) fail("{}: expected an object with \"prompt\", \"input\" or \"messages\"", where);
    if (row.contains("messages")) {
      if (!row["messages"].is_array()) fail("{}: \"messages\" must be a list of {{\"role\", \"content\"}}", where);
      prompts.push_back({row, render(tok, row["messages"])});
      continue;
    }
    const char* key = row.contains("prompt") ? "prompt" : row.contains("input") ? "input" : nullptr;
    if (!key || !row[key].is_string()) fail("{}: expected a string \"prompt\" or \"input\", or \"messages\"", where);
    prompts.push_back({row, as_prompt(tok, row[key].get<std::string>(), o.chat)});
  }
  return prompts;
}

}  // namespace

at::ScalarType resolve_dtype(const std::string& name, at::Device device) {
  if (name == "auto") return device.is_cuda() ? at::kBFloat16 : at::kFloat;
  return parse_float_dtype(name);
}

GenerationSettings resolve_generation(const std::string& model_dir, const GenerateOptions& o) {
  GenerationSettings s = read_generation_config(model_dir);
  if (o.max_new_tokens) s.max_new_tokens = *o.max_new_tokens;
  if (o.temperature) {
    s.sampling.do_sample = *o.temperature > 0;  // vLLM's convention: temperature 0 is greedy
    if (s.sampling.do_sample) s.sampling.temperature = *o.temperature;
  }
  if (o.top_k) s.sampling.top_k = *o.top_k;
  if (o.top_p) s.sampling.top_p = *o.top_p;
  s.seed = o.seed;
  s.stop_strings = o.stop;
  if (const std::string why = check_sampling(s.sampling); !why.empty()) fail("generate: {}", why);
  if (s.max_new_tokens < 1) fail("generate: --max-new-tokens must be >= 1, got {}", s.max_new_tokens);
  return s;
}

std::vector<Generation> generate_batched(model::CausalLMImpl& model, const tokenizer::Tokenizer& tokenizer,
                                         const std::vector<std::vector<int32_t>>& prompts,
                                         const GenerationSettings& settings, int64_t batch_size,
                                         const std::function<void(size_t, size_t)>& on_batch) {
  if (batch_size < 1) fail("generate: batch size must be >= 1, got {}", batch_size);
  std::vector<size_t> order(prompts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return prompts[a].size() < prompts[b].size(); });
  std::vector<Generation> out(prompts.size());
  for (size_t start = 0; start < order.size(); start += batch_size) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    std::vector<std::vector<int32_t>> batch;
    for (size_t i = start; i < end; ++i) batch.push_back(prompts[order[i]]);
    auto results = generate(model, &tokenizer, batch, settings);
    for (size_t i = start; i < end; ++i) out[order[i]] = std::move(results[i - start]);
    if (on_batch) on_batch(end, order.size());
  }
  return out;
}

void run_generate(const GenerateOptions& o) {
  if (o.prompts.empty() && o.input.empty()) fail("generate: give --prompt or --input");
  const fs::path model_dir = io::hub::model_dir(o.model);
  const at::Device device = parse_device(o.device);
  // Owned weights, so that packing for decoding can free the originals.
  model::LoadOptions load{resolve_dtype(o.dtype, device), device, /*copy_weights=*/true};
  const GenerationSettings settings = resolve_generation(model_dir.string(), o);
  const fs::path tokenizer_dir =
      !o.adapter.empty() && fs::exists(fs::path(o.adapter) / "tokenizer.json") ? fs::path(o.adapter) : model_dir;
  const auto tok = tokenizer::PretrainedTokenizer::from_dir(tokenizer_dir);
  const std::vector<Prompt> prompts = read_prompts(o, tok);
  if (prompts.empty()) fail("{}: no prompts in the file", o.input);

  model::CausalLM lm = model::load_causal_lm(model_dir, load);
  if (!o.adapter.empty()) {
    peft::load_adapter(lm, o.adapter);
    peft::merge_and_unload(lm);
  }
  pack_linear_weights(*lm, /*release_originals=*/true);
  std::vector<std::vector<int32_t>> ids;
  for (const auto& p : prompts) ids.push_back(tok.encode_prompt(p.text));

  const auto start = std::chrono::steady_clock::now();
  const auto results = generate_batched(*lm, tok.tokenizer, ids, settings, o.batch_size);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  size_t new_tokens = 0;
  for (const auto& g : results) new_tokens += g.tokens.size();
  log_info("generate: {} prompts, {} new tokens in {:.2f} s ({:.1f} new tokens/s)", prompts.size(), new_tokens,
           seconds, static_cast<double>(new_tokens) / std::max(seconds, 1e-9));

  const bool plain = o.input.empty() && o.output.empty();  // --prompt to the terminal: just the text
  std::string text;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (plain) {
      text += results[i].text + "\n";
      continue;
    }
    nlohmann::ordered_json line = prompts[i].source;
    line["generation"] = results[i].text;
    line["finish_reason"] = to_string(results[i].finish_reason);
    line["new_tokens"] = results[i].tokens.size();
    text += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  if (o.output.empty()) {
    fmt::print("{}", text);
  } else {
    write_file_atomic(o.output, text);
    log_info("generate: wrote {}", o.output);
  }
}

}  // namespace finch::infer
