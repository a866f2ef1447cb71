// `finch generate`: a model (plus an optional PEFT adapter, merged) answers
// prompts given on the command line or in a JSONL file.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "finch/infer/generate.h"

namespace finch::infer {

struct GenerateOptions {
  std::string model;                  // HF directory or Hub id
  std::string adapter;                // PEFT adapter directory, merged into the model; empty: none
  std::vector<std::string> prompts;   // --prompt
  std::string input;                  // JSONL: {"prompt"|"input": str} or {"messages": [...]} per line
  std::string output;                 // JSONL results; empty: stdout
  bool chat = false;                  // render prompts as one user turn with the chat template
  int64_t batch_size = 16;
  std::string dtype = "auto";         // auto: bf16 on a GPU, fp32 on the CPU
  std::string device = "auto";        // auto: cuda when available
  // Unset: the model's generation_config.json (see read_generation_config).
  std::optional<int64_t> max_new_tokens;
  std::optional<double> temperature;  // 0: greedy
  std::optional<int64_t> top_k;
  std::optional<double> top_p;
  uint64_t seed = 0;
  std::vector<std::string> stop;
};

void run_generate(const GenerateOptions& options);

// The settings a run uses: the model's generation config, then the options.
GenerationSettings resolve_generation(const std::string& model_dir, const GenerateOptions& options);

// Answers `prompts` (ids) in batches of `batch_size`, shortest prompts
// together (less padding), results in input order. `on_batch(done, total)`
// is told the progress after each batch.
std::vector<Generation> generate_batched(model::CausalLMImpl& model, const tokenizer::Tokenizer& tokenizer,
                                         const std::vector<std::vector<int32_t>>& prompts,
                                         const GenerationSettings& settings, int64_t batch_size,
                                         const std::function<void(size_t, size_t)>& on_batch = {});

// auto -> bf16 on a GPU, fp32 on the CPU; else parse_float_dtype.
at::ScalarType resolve_dtype(const std::string& name, at::Device device);

}  // namespace finch::infer
