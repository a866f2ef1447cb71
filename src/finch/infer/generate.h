// Batched generation with a KV cache, as transformers' generate decodes:
// prompts left-padded into one batch, the prompt run once (prefill), then one
// token per step for every unfinished row. A row finishes on an EOS token,
// on a stop string, or after max_new_tokens; finished rows leave the batch
// (their cache rows are dropped), so the remaining rows' steps get cheaper.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "finch/infer/sampling.h"
#include "finch/model/causal_lm.h"

namespace finch::tokenizer {
class Tokenizer;
}

namespace finch::infer {

struct GenerationSettings {
  int64_t max_new_tokens = 256;
  SamplingSettings sampling;
  uint64_t seed = 0;                     // sampling only
  std::vector<int32_t> eos_token_ids;    // any of them ends a row (kept in its tokens)
  std::vector<std::string> stop_strings; // any of them in the decoded text ends a row (cut from its text)
};

// The model's generation_config.json (else config.json's eos_token_id), with
// transformers' defaults for what it leaves out: greedy unless do_sample, then
// temperature 1, top_k 50, top_p 1. Its max_new_tokens, when set, replaces ours.
GenerationSettings read_generation_config(const std::filesystem::path& model_dir);

enum class FinishReason { kEos, kStop, kLength };
const char* to_string(FinishReason reason);

struct Generation {
  std::vector<int32_t> tokens;  // the new tokens, the EOS token included when one ended the row
  std::string text;             // tokens decoded without special tokens, cut before a stop string
  FinishReason finish_reason = FinishReason::kLength;
};

// prompts: token ids, each non-empty. Returns one Generation per prompt, in
// order. `tokenizer` decodes the text and finds stop strings; without one
// (nullptr) only the tokens are returned and stop strings are an error.
std::vector<Generation> generate(model::CausalLMImpl& model, const tokenizer::Tokenizer* tokenizer,
                                 const std::vector<std::vector<int32_t>>& prompts, const GenerationSettings& settings);

}  // namespace finch::infer
