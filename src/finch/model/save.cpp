#include "finch/model/save.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <nlohmann/json.hpp>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/io/json_config.h"
#include "finch/io/safetensors.h"

namespace finch::model {
namespace fs = std::filesystem;

namespace {

// torch's names, which transformers writes into config.json.
std::string torch_dtype_name(at::ScalarType dtype) {
  switch (dtype) {
    case at::kFloat: return "float32";
    case at::kBFloat16: return "bfloat16";
    case at::kHalf: return "float16";
    default: fail("a model is saved as float32, bfloat16 or float16, not {}", c10::toString(dtype));
  }
}

nlohmann::ordered_json read_ordered(const fs::path& path) {
  try {
    return nlohmann::ordered_json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON ({})", path.string(), e.what());
  }
}

}  // namespace

std::vector<std::pair<std::string, at::Tensor>> model_state(CausalLM& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  const bool tied = !model->lm_head;
  for (const auto& p : model->named_parameters()) {
    if (tied && p.key() == "lm_head.weight") continue;
    out.emplace_back(p.key(), p.value().detach());
  }
  return out;
}

std::string config_with_dtype(const fs::path& config_json, at::ScalarType dtype) {
  nlohmann::ordered_json config = read_ordered(config_json);
  if (!config.is_object()) fail("{}: expected a JSON object", config_json.string());
  // transformers 5 writes "dtype"; older files say "torch_dtype": both must name what is stored.
  config["dtype"] = torch_dtype_name(dtype);
  if (config.contains("torch_dtype")) config["torch_dtype"] = torch_dtype_name(dtype);
  return config.dump(2) + "\n";
}

std::string generation_config_from(const fs::path& config_json) {
  const nlohmann::ordered_json config = read_ordered(config_json);
  // GenerationConfig.from_model_config: the token ids the model config sets,
  // the defaults it differs from, and the marker saying where they came from.
  nlohmann::ordered_json out = {{"_from_model_config", true}};
  for (const char* key : {"bos_token_id", "eos_token_id"})
    if (config.contains(key) && !config[key].is_null()) out[key] = config[key];
  out["output_attentions"] = false;
  out["output_hidden_states"] = false;
  if (config.contains("pad_token_id") && !config["pad_token_id"].is_null()) out["pad_token_id"] = config["pad_token_id"];
  if (config.contains("transformers_version")) out["transformers_version"] = config["transformers_version"];
  out["use_cache"] = true;
  return out.dump(2) + "\n";
}

SavedModel save_pretrained(CausalLM& model, const fs::path& dir, const SaveOptions& options) {
  FINCH_CHECK(!options.config_json.empty(), "save_pretrained: no config.json given");
  const std::string config = config_with_dtype(options.config_json, options.dtype);
  const std::string generation = options.generation_config_json.empty()
                                     ? generation_config_from(options.config_json)
                                     : read_text_file(options.generation_config_json);
  {
    torch::NoGradGuard no_grad;
    model->to(at::kCPU, options.dtype);
  }
  SavedModel saved;
  safetensors::NamedTensors tensors;
  for (auto& [name, t] : model_state(model)) {
    saved.parameters += t.numel();
    saved.bytes += static_cast<uint64_t>(t.numel()) * t.element_size();
    tensors.emplace_back(name, t);
  }
  write_dir_atomic(dir, [&](const fs::path& tmp) {
    saved.weight_files = safetensors::save_model_dir(tmp, tensors, options.max_shard_bytes, {{"format", "pt"}});
    write_file_atomic(tmp / "config.json", config);
    write_file_atomic(tmp / "generation_config.json", generation);
    for (const auto& file : options.copy_files) copy_file_atomic(file, tmp / file.filename());
  });
  return saved;
}

}  // namespace finch::model
