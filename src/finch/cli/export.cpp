// finch export: a checkpoint -> a merged HF model folder, or a PEFT adapter folder.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "finch/cli/commands.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/eval/export.h"
#include "finch/io/safetensors.h"

namespace finch::cli {
namespace {

struct ExportFlags {
  std::string checkpoint, results, hf_model_id, base_model, output;
  std::string dtype;
  std::string max_shard_size = "5GB";
  bool no_merge = false;
};

void run_export(const ExportFlags& f) {
  eval::ExportOptions options;
  options.source = {f.checkpoint, f.results, f.hf_model_id};
  options.base_model = f.base_model;
  options.merge = !f.no_merge;
  if (!f.dtype.empty()) options.dtype = parse_float_dtype(f.dtype);
  options.output = f.output;
  options.max_shard_bytes = safetensors::parse_size(f.max_shard_size, "--max-shard-size");
  const eval::ExportResult r = eval::export_checkpoint(options);
  const size_t shards = std::count_if(r.files.begin(), r.files.end(), [](const std::string& name) {
    return name.ends_with(".safetensors");
  });
  log_info("wrote {} ({}): {} parameters, {}, {:.1f} MB in {} safetensors file{}", r.output.string(),
           r.merged ? (r.kind == eval::CheckpointKind::lora_adapter ? "merged model" : "model") : "PEFT adapter",
           r.parameters, float_dtype_name(r.dtype), static_cast<double>(r.bytes) / 1e6, shards, shards == 1 ? "" : "s");
  fmt::print("{}\n", nlohmann::json{{"output", r.output.string()},
                                    {"checkpoint", r.checkpoint.string()},
                                    {"kind", r.merged ? "model" : "adapter"},
                                    {"base_model", r.base_model},
                                    {"dtype", float_dtype_name(r.dtype)},
                                    {"parameters", r.parameters},
                                    {"bytes", r.bytes},
                                    {"files", r.files}}
                         .dump());
}

}  // namespace

void add_export_command(CLI::App& app) {
  auto f = std::make_shared<ExportFlags>();
  auto* cmd = app.add_subcommand("export", "Checkpoint -> merged HF model folder, or PEFT adapter folder (--no-merge)");
  auto* checkpoint = cmd->add_option("--checkpoint", f->checkpoint, "the checkpoint (or any PEFT adapter / HF model) folder");
  auto* results = cmd->add_option("--results", f->results, "a run folder: its newest complete checkpoint-N");
  cmd->add_option("--hf_model_id,--hf-model-id", f->hf_model_id,
                  "the model trained: the newest complete checkpoint-N of results/{hf_model_id}")
      ->excludes(checkpoint)
      ->excludes(results);
  results->excludes(checkpoint);
  cmd->add_option("--base-model", f->base_model,
                  "base model (Hub id or folder) for a LoRA adapter, instead of its base_model_name_or_path");
  cmd->add_flag("--no-merge", f->no_merge, "write the LoRA adapter as a PEFT adapter folder (checkpoint-N.hf_peft)");
  cmd->add_option("--dtype", f->dtype, "bf16, fp16 or fp32 (default: bf16 for a model, fp32 for an adapter)");
  cmd->add_option("--output", f->output, "output folder (default: beside the checkpoint, checkpoint-N.hf_model or .hf_peft)");
  cmd->add_option("--max-shard-size", f->max_shard_size,
                  "largest safetensors file before the weights are split into shards with an index (e.g. 5GB, 500MB)")
      ->capture_default_str();
  cmd->footer(
      "Prints one JSON line {\"output\", \"checkpoint\", \"kind\", \"base_model\", \"dtype\", \"parameters\", "
      "\"bytes\", \"files\"}. The output folder appears whole or not at all.");
  cmd->callback([f] { run_export(*f); });
}

}  // namespace finch::cli
