#include "finch/eval/export.h"

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/io/safetensors.h"
#include "finch/model/save.h"
#include "finch/peft/lora.h"

namespace finch::eval {
namespace fs = std::filesystem;

namespace {

// The dtype the base's weights are stored in: loading in it keeps them views
// of the mapped files, so an adapter export costs no copy of the base.
at::ScalarType stored_dtype(const fs::path& dir) {
  const auto store = safetensors::TensorStore::open_model_dir(dir);
  for (const auto& name : store.names()) {
    const at::ScalarType t = safetensors::to_torch(store.info(name).dtype);
    if (c10::isFloatingType(t)) return t;
  }
  return at::kFloat;
}

fs::path beside(const fs::path& checkpoint, const char* suffix) {
  fs::path dir = checkpoint.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();
  return dir.parent_path() / (dir.filename().string() + suffix);
}

void export_merged(const CheckpointInfo& info, const ExportOptions& options, ExportResult& result) {
  // Merged in fp32 (one rounding to the export dtype, not two), on the CPU.
  model::CausalLM model = load_checkpoint_model(info, {at::kFloat, at::kCPU, /*merge=*/true});
  model::SaveOptions save;
  save.dtype = result.dtype;
  save.max_shard_bytes = options.max_shard_bytes;
  // An adapter checkpoint has no config.json: the base's describes the merged model.
  save.config_json = info.base_dir / "config.json";
  for (const fs::path& dir : {info.dir, info.base_dir})
    if (fs::exists(dir / "generation_config.json")) {
      save.generation_config_json = dir / "generation_config.json";
      break;
    }
  save.copy_files = tokenizer_files(info.tokenizer_dir);
  const model::SavedModel saved = model::save_pretrained(model, result.output, save);
  result.parameters = saved.parameters;
  result.bytes = saved.bytes;
  result.files = saved.weight_files;
  result.files.insert(result.files.end(), {"config.json", "generation_config.json"});
  for (const auto& f : save.copy_files) result.files.push_back(f.filename().string());
}

void export_adapter(const CheckpointInfo& info, ExportResult& result) {
  model::CausalLM model = load_checkpoint_model(info, {stored_dtype(info.base_dir), at::kCPU, /*merge=*/false});
  const peft::LoraSettings lora = peft::read_adapter_config(info.dir);
  for (const auto& [name, t] : peft::adapter_state(model)) {
    result.parameters += t.numel();
    result.bytes += static_cast<uint64_t>(t.numel()) * c10::elementSize(result.dtype);
  }
  // PEFT keeps no tokenizer in an adapter folder; a finch checkpoint's is kept, since it may differ from the base's.
  const auto tokenizer = info.tokenizer_dir == info.dir ? tokenizer_files(info.dir) : std::vector<fs::path>{};
  write_dir_atomic(result.output, [&](const fs::path& tmp) {
    peft::save_adapter(model, lora, tmp, info.base_model, result.dtype);
    for (const auto& f : tokenizer) copy_file_atomic(f, tmp / f.filename());
  });
  result.files = {"adapter_model.safetensors", "adapter_config.json"};
  for (const auto& f : tokenizer) result.files.push_back(f.filename().string());
}

}  // namespace

ExportResult export_checkpoint(const ExportOptions& options) {
  const fs::path checkpoint = find_checkpoint(options.source);
  const CheckpointInfo info = describe_checkpoint(checkpoint, options.base_model);
  if (!options.merge && info.kind != CheckpointKind::lora_adapter)
    fail("{} is a full fine-tuned model, not a LoRA adapter: --no-merge applies to LoRA checkpoints only "
         "(export it without --no-merge)",
         checkpoint.string());
  ExportResult result;
  result.checkpoint = checkpoint;
  result.kind = info.kind;
  result.base_model = info.base_model;
  result.merged = options.merge;
  result.dtype = options.dtype.value_or(options.merge ? at::kBFloat16 : at::kFloat);
  result.output = options.output.empty() ? beside(checkpoint, options.merge ? ".hf_model" : ".hf_peft") : options.output;
  // The output folder is replaced whole: never the checkpoint, nor a folder that is not an earlier export.
  if (fs::exists(result.output)) {
    if (fs::equivalent(result.output, checkpoint))
      fail("--output {} is the checkpoint itself; choose another folder", result.output.string());
    const bool earlier_export = fs::exists(result.output / "config.json") || fs::exists(result.output / "adapter_config.json");
    if (!fs::is_directory(result.output) || (!earlier_export && !fs::is_empty(result.output)))
      fail("--output {} exists and is not a model or adapter folder; give a new folder (it is replaced whole)",
           result.output.string());
  }
  log_info("exporting {} ({}{}) to {}", checkpoint.string(), kind_name(info.kind),
           info.base_model.empty() ? "" : ", base " + info.base_model, result.output.string());
  if (options.merge)
    export_merged(info, options, result);
  else
    export_adapter(info, result);
  return result;
}

}  // namespace finch::eval
