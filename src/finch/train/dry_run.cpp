#include "finch/train/dry_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "finch/io/hub.h"
#include "finch/io/json_config.h"
#include "finch/model/registry.h"
#include "finch/train/estimate.h"

namespace finch::train {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

std::string lines(const std::vector<MemoryLine>& items) {
  std::string out;
  for (const auto& line : items) out += fmt::format("  {:<16} {:>8.2f} GiB  {}\n", line.name, line.bytes / kGiB, line.formula);
  return out;
}

}  // namespace

std::string dry_run_report(const RunSettings& s) {
  const auto config_file = io::hub::model_file(s.model.hf_model_id, "config.json");
  const model::DecoderConfig config = model::read_decoder_config(JsonConfig::load(config_file));
  const ParameterCounts counts = count_parameters(config, s.lora, s.train.full_ft);
  const MemoryInputs inputs = memory_inputs(config, counts, s.train, s.lora, s.parallel, s.data.max_seq_length);
  const MemoryEstimate memory = estimate_memory(inputs);

  std::string out;
  out += fmt::format("model: {} ({}, from {})\n", s.model.hf_model_id, config.architecture, config_file.string());
  out += fmt::format("  {} layers, hidden {}, intermediate {}, {} heads, {} kv heads, head_dim {}, vocab {}, lm_head {}\n",
                     config.num_layers, config.hidden_size, config.intermediate_size, config.num_heads,
                     config.num_kv_heads, config.head_dim, config.vocab_size,
                     config.tie_word_embeddings ? "tied" : "untied");
  if (s.train.full_ft)
    out += "method: full fine-tuning (every parameter trains)\n";
  else
    out += fmt::format("method: LoRA r={} alpha={} on {} linear layers ({})\n", s.lora.rank, s.lora.alpha,
                       counts.adapted_layers, fmt::join(s.lora.target_modules, ", "));
  out += fmt::format("trainable params: {} || all params: {} || trainable%: {:.4f}\n", commas(counts.trainable),
                     commas(counts.total), 100.0 * static_cast<double>(counts.trainable) / static_cast<double>(counts.total));
  const int64_t gpus = s.parallel.strategy == "none" ? 1 : s.parallel.nproc_per_node;
  out += fmt::format(
      "memory per GPU (estimate): {} GPU{}, parallel.strategy {}, {}, micro-batch {} x {} tokens, "
      "activation checkpointing {}\n",
      gpus, gpus == 1 ? "" : "s", s.parallel.strategy, inputs.bf16 ? "bf16" : "fp32", inputs.micro_batch,
      inputs.seq_len, inputs.activation_checkpointing ? "on" : "off");
  out += lines(memory.device);
  out += fmt::format("  {:<16} {:>8.2f} GiB  per GPU\n", "total", memory.device_total / kGiB);
  if (!memory.host.empty()) {
    out += "host memory per rank (parallel.offload_params):\n" + lines(memory.host);
    out += fmt::format("  {:<16} {:>8.2f} GiB  per rank, {:.2f} GiB for {} ranks\n", "total", memory.host_total / kGiB,
                       memory.host_total * static_cast<double>(gpus) / kGiB, gpus);
  }
  out += "  (an estimate: without the CUDA context, about 0.5-1 GiB, and allocator fragmentation; see docs/train.md)\n";
  return out;
}

}  // namespace finch::train
