// finch forward: token ids -> logits (.safetensors) and next-token loss.
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "finch/cli/commands.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/io/safetensors.h"
#include "finch/model/forward_probe.h"
#include "finch/model/load.h"

namespace finch::cli {
namespace {

struct ForwardOptions {
  std::string model_dir;
  std::string ids_file;
  std::string out;
  std::string dtype = "fp32";
  std::string device = "cpu";
  int64_t batch_size = 8;
  int64_t warmup = 0;
};

void run_forward(const ForwardOptions& o) {
  model::LoadOptions load;
  load.dtype = parse_float_dtype(o.dtype);
  load.device = parse_device(o.device);
  model::CausalLM lm = model::load_causal_lm(o.model_dir, load);
  const auto rows = model::read_probe_rows(o.ids_file, lm->config().vocab_size);
  for (int64_t i = 0; i < o.warmup; ++i) model::run_probe(lm, rows, o.batch_size, load.device, false);
  const auto result = model::run_probe(lm, rows, o.batch_size, load.device, /*keep_logits=*/!o.out.empty());
  log_info("forward: {} tokens in {:.3f} s ({:.1f} tokens/s), peak device memory {:.0f} MiB", result.input_tokens,
           result.seconds, static_cast<double>(result.input_tokens) / std::max(result.seconds, 1e-9),
           static_cast<double>(peak_device_memory(load.device)) / (1 << 20));
  if (!o.out.empty()) {
    safetensors::NamedTensors tensors;
    for (size_t i = 0; i < result.logits.size(); ++i) tensors.emplace_back(fmt::format("logits.{}", i), result.logits[i]);
    safetensors::save_file(o.out, tensors);
  }
  fmt::print("{}\n", nlohmann::json{{"loss", result.loss()}, {"tokens", result.tokens}}.dump());
}

}  // namespace

void add_forward_command(CLI::App& app) {
  auto options = std::make_shared<ForwardOptions>();
  auto* cmd = app.add_subcommand("forward", "Token ids -> logits and next-token loss (the parity probe)");
  cmd->add_option("--model", options->model_dir, "HF model directory (config.json + safetensors)")->required();
  cmd->add_option("--ids-file", options->ids_file,
                  "JSONL, one {\"input_ids\": [...], \"attention_mask\"?: [...], \"position_ids\"?: [...]} a line")
      ->required();
  cmd->add_option("--out", options->out, "write the fp32 logits of line i as tensor logits.<i> to this .safetensors");
  cmd->add_option("--dtype", options->dtype, "compute dtype: fp32, bf16 or fp16")->capture_default_str();
  cmd->add_option("--device", options->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--batch-size", options->batch_size, "lines per forward pass (right-padded)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", options->warmup, "untimed passes over the input before the timed one (benchmarks)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->footer(
      "Prints one JSON line {\"loss\": L, \"tokens\": N}: N counts the next-token predictions whose input and "
      "target positions are both unmasked, L is their summed negative log-likelihood divided by N.");
  cmd->callback([options] { run_forward(*options); });
}

}  // namespace finch::cli
