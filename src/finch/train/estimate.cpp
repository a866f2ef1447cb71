#include "finch/train/estimate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "finch/model/causal_lm.h"

namespace finch::train {
std::string commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

namespace {

int64_t numel(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace

ParameterCounts count_parameters(const model::DecoderConfig& config, const peft::LoraSettings& lora, bool full_ft) {
  // The real module tree, so the counts cannot drift from what training
  // builds; meta tensors have shapes and no storage.
  model::CausalLM m(config, at::TensorOptions().device(at::kMeta).dtype(at::kFloat));
  ParameterCounts c;
  c.base = numel(*m);
  int64_t in_layers = 0;
  for (const auto& layer : m->model->layers->children()) {
    const int64_t n = numel(*layer);
    in_layers += n;
    c.largest_layer = std::max(c.largest_layer, n);
  }
  c.root = c.base - in_layers;
  for (const auto& item : m->named_modules())
    if (auto* linear = item.value()->as<model::LinearImpl>()) c.linear_weights += linear->weight.numel();
  // A tied head multiplies by the embedding matrix: autocast casts it like a linear weight.
  if (config.tie_word_embeddings) c.linear_weights += config.vocab_size * config.hidden_size;
  if (full_ft) {
    c.trainable = c.base;
  } else {
    for (const auto& [name, linear] : peft::lora_target_layers(m, lora)) {
      const int64_t out_features = linear->weight.size(0), in_features = linear->weight.size(1);
      c.adapter += lora.rank * (in_features + out_features);
      c.adapted_layers += 1;
      c.adapted_in_features += in_features;
    }
    c.trainable = c.adapter;
  }
  c.total = c.base + c.adapter;
  return c;
}

MemoryInputs memory_inputs(const model::DecoderConfig& config, const ParameterCounts& counts,
                           const TrainSettings& train, const peft::LoraSettings& lora,
                           const dist::ParallelSettings& parallel, int64_t seq_len) {
  MemoryInputs in;
  in.config = config;
  in.counts = counts;
  in.full_ft = train.full_ft;
  // The estimate is per GPU: precision auto means bf16 autocast there.
  in.bf16 = train.precision == "bf16" || (train.precision == "auto" && train.device != "cpu");
  in.micro_batch = train.per_device_train_batch_size;
  in.seq_len = seq_len;
  in.activation_checkpointing = train.activation_checkpointing;
  if (!train.full_ft) {
    in.lora_dropout = lora.dropout;
    in.lora_rank = lora.rank;
  }
  in.strategy = parallel.strategy;
  in.world = parallel.nproc_per_node;
  in.offload_params = parallel.offload_params;
  return in;
}

double layer_activation_elements(const MemoryInputs& in) {
  const auto& c = in.config;
  const double C = c.hidden_size, I = c.intermediate_size, HD = c.num_heads * c.head_dim,
               KD = c.num_kv_heads * c.head_dim;
  // Attention: the norm's input and output (2C); q, k, v (HD + 2KD); q and k
  // after rotary (HD + KD); the attention output, o_proj's input (HD).
  // MLP: the norm's input and output (2C); gate, up, silu(gate) and their
  // product, down_proj's input (4I).
  double elements = 4 * C + 3 * HD + 3 * KD + 4 * I;
  // Each adapter keeps lora_A's output (r) and, with dropout, its dropped input.
  const double L = static_cast<double>(c.num_layers);
  elements += static_cast<double>(in.counts.adapted_layers * in.lora_rank) / L;
  if (in.lora_dropout > 0) elements += static_cast<double>(in.counts.adapted_in_features) / L;
  return elements;
}

MemoryEstimate estimate_memory(const MemoryInputs& in) {
  const auto& n = in.counts;
  const auto& c = in.config;
  const int64_t b = in.bf16 ? 2 : 4;
  const std::string dtype = in.bf16 ? "bf16" : "fp32";
  const bool fsdp = in.strategy == "fsdp";
  const int64_t shard = fsdp ? in.world : 1;
  const std::string per_shard = shard > 1 ? fmt::format(" / {} ranks", shard) : "";
  const double s = static_cast<double>(shard);

  MemoryEstimate e;
  std::vector<MemoryLine> state;  // weights, gradients and optimizer state: on the GPU, or offloaded
  if (in.full_ft) {
    const double p = static_cast<double>(n.base);
    state.push_back({"weights", p * 4 / s, fmt::format("{} params x 4 B (fp32 master weights){}", commas(n.base), per_shard)});
    state.push_back({"gradients", p * 4 / s, fmt::format("{} params x 4 B (fp32){}", commas(n.base), per_shard)});
    state.push_back({"optimizer", p * 8 / s,
                     fmt::format("{} params x 8 B (AdamW exp_avg + exp_avg_sq, fp32){}", commas(n.base), per_shard)});
  } else {
    const double base = static_cast<double>(n.base), adapter = static_cast<double>(n.adapter);
    state.push_back({"weights", (base * b + adapter * 4) / s,
                     fmt::format("{} base params x {} B ({}, frozen) + {} adapter params x 4 B (fp32){}",
                                 commas(n.base), b, dtype, commas(n.adapter), per_shard)});
    state.push_back({"gradients", adapter * 4 / s, fmt::format("{} adapter params x 4 B (fp32){}", commas(n.adapter), per_shard)});
    state.push_back({"optimizer", adapter * 8 / s,
                     fmt::format("{} adapter params x 8 B (AdamW exp_avg + exp_avg_sq, fp32){}", commas(n.adapter), per_shard)});
  }
  if (fsdp && in.offload_params) {
    for (auto& line : state) line.formula += ", in CPU memory";
    e.host = state;
  } else {
    e.device = state;
  }

  if (fsdp) {
    // The root unit (embeddings, final norm, lm_head) stays gathered for the
    // step; decoder layers are gathered one at a time, the next prefetched.
    const double gathered = static_cast<double>(n.root + 2 * n.largest_layer);
    e.device.push_back({"gathered params", gathered * b,
                        fmt::format("({} root params + 2 x {} layer params) x {} B ({})", commas(n.root),
                                    commas(n.largest_layer), b, dtype)});
  } else if (in.bf16) {
    // Autocast caches a bf16 copy of every fp32 weight that trains, for the forward pass.
    const int64_t cast = in.full_ft ? n.linear_weights : n.adapter;
    e.device.push_back({"autocast copies", static_cast<double>(cast) * 2,
                        fmt::format("{} trainable fp32 weights x 2 B (their bf16 casts)", commas(cast))});
  }

  const int64_t tokens = in.micro_batch * in.seq_len;
  const double per_layer = layer_activation_elements(in);
  const double t = static_cast<double>(tokens), L = static_cast<double>(c.num_layers),
               C = static_cast<double>(c.hidden_size);
  if (in.activation_checkpointing) {
    e.device.push_back({"activations", t * (L * C + per_layer) * b,
                        fmt::format("{} tokens x ({} layers x {} hidden + {} of one layer's working set) x {} B "
                                    "(checkpointing)",
                                    commas(tokens), c.num_layers, c.hidden_size, commas(std::llround(per_layer)), b)});
  } else {
    e.device.push_back({"activations", t * L * per_layer * b,
                        fmt::format("{} tokens x {} layers x {} per layer x {} B", commas(tokens), c.num_layers,
                                    commas(std::llround(per_layer)), b)});
  }
  e.device.push_back({"logits", t * static_cast<double>(c.vocab_size) * 4,
                      fmt::format("{} tokens x {} vocab x 4 B (fp32)", commas(tokens), commas(c.vocab_size))});
  for (const auto& line : e.device) e.device_total += line.bytes;
  for (const auto& line : e.host) e.host_total += line.bytes;
  return e;
}

}  // namespace finch::train
