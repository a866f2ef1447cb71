#include "finch/eval/checkpoint.h"

#include <stdlib.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "finch/core/error.h"
#include "finch/core/log.h"
#include "finch/io/checkpoint_dir.h"
#include "finch/io/hub.h"
#include "finch/io/json_config.h"
#include "finch/io/sharded_state.h"
#include "finch/model/load.h"
#include "finch/peft/lora.h"

namespace finch::eval {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTokenizerFiles[] = {"tokenizer.json",  "tokenizer_config.json", "special_tokens_map.json",
                                           "chat_template.jinja", "tokenizer.model",   "vocab.json",
                                           "merges.txt",      "added_tokens.json"};

// N of "checkpoint-N" (digits only, so checkpoint-N.hf_model is not one).
std::optional<int64_t> checkpoint_step(const std::string& name) {
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return std::nullopt;
  int64_t step = 0;
  const char* first = name.data() + prefix.size();
  const char* last = name.data() + name.size();
  auto [end, ec] = std::from_chars(first, last, step);
  if (ec != std::errc() || end != last || *first == '-' || *first == '+') return std::nullopt;
  return step;
}

// Why the run folder has no usable checkpoint: its newest checkpoint-N by name and what is wrong with it.
std::string newest_torn(const fs::path& run) {
  std::optional<std::pair<int64_t, fs::path>> newest;
  for (const auto& entry : fs::directory_iterator(run)) {
    const auto step = checkpoint_step(entry.path().filename().string());
    if (entry.is_directory() && step && (!newest || *step > newest->first)) newest = {{*step, entry.path()}};
  }
  if (!newest) return "";
  return fmt::format(" (the newest, {}, is incomplete: {})", newest->second.filename().string(),
                     io::verify_checkpoint_dir(newest->second));
}

bool has_model_weights(const fs::path& dir) {
  return fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json");
}

}  // namespace

const char* kind_name(CheckpointKind kind) {
  return kind == CheckpointKind::lora_adapter ? "LoRA adapter" : "full model";
}

fs::path find_checkpoint(const CheckpointQuery& query) {
  if (!query.checkpoint.empty()) {
    const fs::path& dir = query.checkpoint;
    if (!fs::is_directory(dir)) fail("checkpoint {}: no such folder", dir.string());
    // finch's own checkpoints carry a manifest: a torn one is refused, not half loaded.
    if (fs::exists(dir / "MANIFEST.json"))
      if (const std::string why = io::verify_checkpoint_dir(dir); !why.empty())
        fail("checkpoint {} is incomplete or damaged: {}", dir.string(), why);
    return dir;
  }
  fs::path run = query.results_dir;
  if (run.empty()) {
    if (query.hf_model_id.empty()) fail("no checkpoint given: name one with --checkpoint, --results or --hf_model_id");
    run = io::default_run_dir(query.hf_model_id);
  }
  if (!fs::is_directory(run))
    fail("no results folder {} (finch train writes its checkpoints there; or give --checkpoint or --results)",
         run.string());
  const auto newest = io::newest_checkpoint(run, /*remove_leftovers=*/false);
  if (!newest) fail("no complete checkpoint-N folder in {}{}", run.string(), newest_torn(run));
  return newest->dir;
}

CheckpointInfo describe_checkpoint(const fs::path& dir, const std::string& base_model) {
  if (io::sharded::is_sharded(dir)) {
    std::string pattern = (fs::temp_directory_path() / "finch-consolidated-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fail("{}: cannot make a temporary folder: {}", pattern, std::strerror(errno));
    auto folder = std::shared_ptr<const fs::path>(new fs::path(pattern), [](const fs::path* p) {
      std::error_code ignored;
      fs::remove_all(*p, ignored);
      delete p;
    });
    log_info("consolidating the sharded checkpoint {} into {}", dir.string(), folder->string());
    io::sharded::consolidate(dir, *folder);
    CheckpointInfo info = describe_checkpoint(*folder, base_model);
    info.step = checkpoint_step(dir.lexically_normal().filename().string());
    info.consolidated = std::move(folder);
    return info;
  }
  CheckpointInfo info;
  info.dir = dir;
  info.step = checkpoint_step(dir.lexically_normal().filename().string());
  if (fs::exists(dir / "adapter_config.json")) {
    info.kind = CheckpointKind::lora_adapter;
    info.base_model = base_model;
    if (info.base_model.empty()) {
      const JsonConfig config = JsonConfig::load(dir / "adapter_config.json");
      info.base_model = config.get_string("base_model_name_or_path", "");
      if (info.base_model.empty())
        fail("{}: no base_model_name_or_path; name the base model with --base-model", config.where("base_model_name_or_path"));
    }
    info.base_dir = io::hub::model_dir(info.base_model);
  } else if (fs::exists(dir / "config.json") && has_model_weights(dir)) {
    info.kind = CheckpointKind::full_model;
    info.base_model = base_model;
    if (info.base_model.empty() && fs::exists(dir / "trainer_state.json")) {
      const auto state = read_json_file(dir / "trainer_state.json");
      if (state.contains("run") && state["run"].is_object() && state["run"].value("model", nlohmann::json()).is_string())
        info.base_model = state["run"]["model"].get<std::string>();
    }
    info.base_dir = dir;
  } else {
    fail("{}: neither a LoRA adapter (adapter_config.json) nor a model (config.json and model.safetensors)",
         dir.string());
  }
  info.tokenizer_dir = tokenizer_files(dir).empty() ? info.base_dir : dir;
  return info;
}

model::CausalLM load_checkpoint_model(const CheckpointInfo& info, const CheckpointLoadOptions& options) {
  model::LoadOptions load;
  load.dtype = options.dtype;
  load.device = options.device;
  load.copy_weights = options.copy_weights;
  if (info.kind == CheckpointKind::full_model) return model::load_causal_lm(info.dir, load);
  model::CausalLM model = model::load_causal_lm(info.base_dir, load);
  peft::load_adapter(model, info.dir);
  if (options.merge) peft::merge_and_unload(model);
  model->eval();
  return model;
}

std::vector<fs::path> tokenizer_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const char* name : kTokenizerFiles)
    if (fs::is_regular_file(dir / name)) out.push_back(dir / name);
  return out;
}

}  // namespace finch::eval
