#include "finch/infer/generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>

#include "finch/core/error.h"
#include "finch/core/log.h"
#include "finch/infer/kv_cache.h"
#include "finch/infer/packed_linear.h"
#include "finch/io/json_config.h"
#include "finch/tokenizer/tokenizer.h"

namespace finch::infer {
namespace {

namespace fs = std::filesystem;

// eos_token_id: an integer, a list of them, or null.
std::vector<int32_t> read_token_ids(const nlohmann::json& j, const std::string& where) {
  std::vector<int32_t> ids;
  if (j.is_null()) return ids;
  if (j.is_number_integer()) return {j.get<int32_t>()};
  if (!j.is_array()) fail("{}: expected a token id or a list of them", where);
  for (const auto& id : j) {
    if (!id.is_number_integer()) fail("{}: expected a token id or a list of them", where);
    ids.push_back(id.get<int32_t>());
  }
  return ids;
}

// Setting keys transformers would act on that finch does not implement.
void warn_unsupported(const nlohmann::json& j, const fs::path& file) {
  const std::pair<const char*, double> neutral[] = {{"repetition_penalty", 1.0}, {"num_beams", 1},
                                                     {"no_repeat_ngram_size", 0}, {"typical_p", 1.0}};
  for (const auto& [key, value] : neutral)
    if (j.contains(key) && j[key].is_number() && j[key].get<double>() != value)
      log_warning("{}: {} = {} is not supported by finch generate; ignored", file.string(), key, j[key].dump());
  if (j.contains("min_p") && !j["min_p"].is_null())
    log_warning("{}: min_p is not supported by finch generate; ignored", file.string());
}

// [B, 1, T, S] masks for a step whose T queries sit at cache indices S-T..S-1,
// over keys whose validity (not padding) is key_valid [B, S]. Undefined where
// plain attention is exact: causal when the cache held nothing before, all
// keys for a single query.
model::AttentionMasks step_masks(const at::Tensor& key_valid, int64_t T, const model::DecoderConfig& c) {
  const int64_t S = key_valid.size(1);
  const bool padded = !key_valid.all().item<bool>();
  const bool has_sliding = std::count(c.layer_types.begin(), c.layer_types.end(), model::LayerType::kSliding) > 0;
  const bool window_binds = has_sliding && c.sliding_window && S > *c.sliding_window;
  model::AttentionMasks masks;
  if (!padded && !window_binds && (T == 1 || T == S)) return masks;

  const auto options = at::TensorOptions().dtype(at::kLong).device(key_valid.device());
  const at::Tensor q = at::arange(S - T, S, options).unsqueeze(1), k = at::arange(S, options).unsqueeze(0);  // [T,1], [1,S]
  // A padding query sees itself, so no row is empty (its output is never used).
  at::Tensor full = at::logical_or(at::logical_and(k <= q, key_valid.unsqueeze(1)), q == k).unsqueeze(1);  // [B,1,T,S]
  masks.full = full;
  masks.sliding = window_binds ? at::logical_and(full, (q - k) < *c.sliding_window) : full;
  return masks;
}

// Where the first stop string starts in `text`, or npos.
size_t find_stop(const std::string& text, const std::vector<std::string>& stops) {
  size_t first = std::string::npos;
  for (const auto& s : stops) first = std::min(first, text.find(s));
  return first;
}

}  // namespace

GenerationSettings read_generation_config(const fs::path& model_dir) {
  GenerationSettings s;
  const fs::path file = model_dir / "generation_config.json";
  const fs::path config = model_dir / "config.json";
  if (!fs::exists(file)) {
    if (fs::exists(config)) {
      const nlohmann::json j = read_json_file(config);
      if (j.contains("eos_token_id")) s.eos_token_ids = read_token_ids(j["eos_token_id"], config.string() + ": eos_token_id");
    }
    return s;
  }
  const nlohmann::json j = read_json_file(file);
  const JsonConfig c(file.string(), j);
  if (j.contains("eos_token_id")) s.eos_token_ids = read_token_ids(j["eos_token_id"], c.where("eos_token_id"));
  s.sampling.do_sample = c.get_bool("do_sample", false);
  s.sampling.temperature = c.get_float("temperature", 1.0);
  s.sampling.top_k = c.get_int("top_k", 50);
  s.sampling.top_p = c.get_float("top_p", 1.0);
  if (c.has("max_new_tokens")) s.max_new_tokens = c.get_int("max_new_tokens");
  warn_unsupported(j, file);
  return s;
}

const char* to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::kEos: return "eos";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
  }
  return "?";
}

std::vector<Generation> generate(model::CausalLMImpl& model, const tokenizer::Tokenizer* tokenizer,
                                 const std::vector<std::vector<int32_t>>& prompts, const GenerationSettings& settings) {
  FINCH_CHECK(tokenizer || settings.stop_strings.empty(), "stop strings need a tokenizer");
  if (const std::string why = check_sampling(settings.sampling); !why.empty()) fail("generation: {}", why);
  if (settings.max_new_tokens < 1) fail("generation: max_new_tokens must be >= 1, got {}", settings.max_new_tokens);
  std::vector<Generation> out(prompts.size());
  if (prompts.empty()) return out;
  c10::InferenceMode inference;
  pack_linear_weights(model);
  const model::DecoderConfig& config = model.config();
  const at::Tensor weight = model.parameters().front();
  const at::Device device = weight.device();

  // Left padding: every row's last prompt token sits in the last column.
  int64_t P = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) fail("generation: prompt {} is empty (no tokens)", i);
    for (const int32_t id : prompts[i])
      if (id < 0 || id >= config.vocab_size)
        fail("generation: prompt {} holds token id {}, outside the model's vocabulary of {}", i, id, config.vocab_size);
    P = std::max<int64_t>(P, static_cast<int64_t>(prompts[i].size()));
  }
  const auto B = static_cast<int64_t>(prompts.size());
  at::Tensor ids = at::zeros({B, P}, at::kLong);
  at::Tensor valid = at::zeros({B, P + settings.max_new_tokens}, at::kBool);
  valid.slice(1, P).fill_(true);  // every generated token is real
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[b];
    const auto n = static_cast<int64_t>(p.size());
    ids[b].slice(0, P - n).copy_(at::tensor(std::vector<int64_t>(p.begin(), p.end()), at::kLong));
    valid[b].slice(0, P - n, P).fill_(true);
  }
  // HF's positions: 0.. over each row's real tokens (padding's do not matter).
  at::Tensor positions = (valid.slice(1, 0, P).to(at::kLong).cumsum(1) - 1).clamp_min(0);
  ids = ids.to(device);
  valid = valid.to(device);
  positions = positions.to(device);

  StaticKVCache cache(config, B, P + settings.max_new_tokens, weight.options());
  at::Generator generator = device.is_cuda() ? at::globalContext().defaultGenerator(device).clone()
                                             : at::make_generator<at::CPUGeneratorImpl>(settings.seed);
  if (device.is_cuda()) generator.set_current_seed(settings.seed);

  std::vector<int64_t> rows(B);  // batch row -> prompt index
  for (int64_t b = 0; b < B; ++b) rows[b] = b;
  at::Tensor input = ids, step_positions = positions;
  for (int64_t step = 0; step < settings.max_new_tokens && !rows.empty(); ++step) {
    const int64_t T = input.size(1), S = cache.length() + T;
    const model::AttentionMasks masks = step_masks(valid.slice(1, 0, S), T, config);
    const at::Tensor logits = model.forward_cached(input, step_positions, masks, cache);  // [B, V]
    const at::Tensor next = next_tokens(logits, settings.sampling, generator);
    const at::Tensor next_cpu = next.to(at::kCPU);
    const auto* next_ids = next_cpu.data_ptr<int64_t>();

    std::vector<int64_t> keep;
    for (size_t b = 0; b < rows.size(); ++b) {
      Generation& g = out[rows[b]];
      const auto token = static_cast<int32_t>(next_ids[b]);
      g.tokens.push_back(token);
      bool done = false;
      if (std::find(settings.eos_token_ids.begin(), settings.eos_token_ids.end(), token) !=
          settings.eos_token_ids.end()) {
        g.finish_reason = FinishReason::kEos;
        done = true;
      } else if (!settings.stop_strings.empty() &&
                 find_stop(tokenizer->decode(g.tokens, /*skip_special_tokens=*/true), settings.stop_strings) !=
                     std::string::npos) {
        g.finish_reason = FinishReason::kStop;
        done = true;
      }
      if (!done) keep.push_back(static_cast<int64_t>(b));
    }
    input = next.unsqueeze(1);
    step_positions = positions.select(1, -1).unsqueeze(1) + 1;
    positions = step_positions;
    if (keep.size() != rows.size()) {
      // Finished rows leave the batch: their cache rows, validity and positions go.
      std::vector<int64_t> kept_rows;
      for (const int64_t b : keep) kept_rows.push_back(rows[b]);
      rows = std::move(kept_rows);
      if (rows.empty()) break;
      const at::Tensor index = at::tensor(keep, at::kLong).to(device);
      cache.keep_rows(index);
      valid = valid.index_select(0, index);
      input = input.index_select(0, index);
      positions = positions.index_select(0, index);
      step_positions = positions;
    }
  }
  for (auto& g : out) {
    if (!tokenizer) continue;
    g.text = tokenizer->decode(g.tokens, /*skip_special_tokens=*/true);
    if (g.finish_reason == FinishReason::kStop) g.text.resize(find_stop(g.text, settings.stop_strings));
  }
  return out;
}

}  // namespace finch::infer
