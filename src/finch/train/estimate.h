// What a training run will hold, estimated from config.json alone (no
// weights are read): parameter counts, and memory per GPU by the formula of
// docs/train.md ("finch train --dry-run"). Letters: P parameters, L layers,
// C hidden, I intermediate, H heads, K kv heads, D head dim, V vocab,
// B micro-batch rows, S tokens per row, N ranks (parallel.nproc_per_node).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "finch/model/decoder_config.h"
#include "finch/peft/lora.h"
#include "finch/dist/settings.h"
#include "finch/train/settings.h"

namespace finch::train {

struct ParameterCounts {
  int64_t base = 0;           // the model's own parameters (tied lm_head counted once)
  int64_t adapter = 0;        // LoRA A and B: r * (in + out) per adapted linear layer
  int64_t trainable = 0;      // adapter (LoRA) or base (full fine-tuning)
  int64_t total = 0;          // base + adapter: PEFT's "all params"
  int64_t linear_weights = 0; // weights of the linear layers (lm_head included): what autocast casts
  int64_t largest_layer = 0;  // the largest decoder layer's parameters: FSDP's gathered unit
  int64_t root = 0;           // parameters outside the decoder layers (embeddings, final norm, lm_head)
  int64_t adapted_layers = 0;        // linear layers with an adapter
  int64_t adapted_in_features = 0;   // their input widths, summed
};

// Counts finch's own module tree for `config`, built on the meta device (so
// nothing is allocated), with LoRA on the layers `lora` targets unless full_ft.
ParameterCounts count_parameters(const model::DecoderConfig& config, const peft::LoraSettings& lora, bool full_ft);

struct MemoryInputs {
  model::DecoderConfig config;
  ParameterCounts counts;
  bool full_ft = false;
  bool bf16 = true;                       // compute dtype: bf16 (2 bytes) or fp32 (4 bytes)
  int64_t micro_batch = 1;                // B
  int64_t seq_len = 2048;                 // S
  bool activation_checkpointing = true;
  double lora_dropout = 0;                // > 0: each adapted layer keeps its dropped input
  int64_t lora_rank = 0;
  std::string strategy = "none";          // none | ddp | fsdp
  int64_t world = 1;                      // N: shards under fsdp
  bool offload_params = false;
};

struct MemoryLine {
  std::string name;
  double bytes = 0;
  std::string formula;  // how it was computed, with the numbers
};

struct MemoryEstimate {
  std::vector<MemoryLine> device;  // per GPU
  double device_total = 0;
  std::vector<MemoryLine> host;    // per rank, in CPU memory (fsdp offload)
  double host_total = 0;
};

MemoryInputs memory_inputs(const model::DecoderConfig& config, const ParameterCounts& counts,
                           const TrainSettings& train, const peft::LoraSettings& lora,
                           const dist::ParallelSettings& parallel, int64_t seq_len);

MemoryEstimate estimate_memory(const MemoryInputs& in);

// Compute-dtype elements one decoder layer keeps per token for backward:
// 4C + 3HD + 3KD + 4I, plus the adapters' inputs (see docs/train.md).
double layer_activation_elements(const MemoryInputs& in);

// 1234567 -> "1,234,567", as Python's format(n, ",d").
std::string commas(int64_t n);

}  // namespace finch::train
