// PEFT's adapter directory: adapter_config.json + adapter_model.safetensors.
#include <torch/csrc/autograd/grad_mode.h>

#include <ATen/CPUGeneratorImpl.h>
#include <cmath>
#include <nlohmann/json.hpp>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/io/json_config.h"
#include "finch/io/safetensors.h"
#include "finch/peft/lora.h"
#include "finch/peft/lora_layer.h"

namespace finch::peft {
namespace fs = std::filesystem;

namespace {

constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";

// PEFT options that change what the adapter computes or which modules it
// covers, and that finch does not implement: each must be absent or off.
constexpr const char* kMustBeOff[] = {
    "fan_in_fan_out", "use_dora",      "lora_bias",        "use_qalora",          "use_bdlora",
    "modules_to_save", "layers_to_transform", "layer_replication", "rank_pattern", "alpha_pattern",
    "exclude_modules", "target_parameters",   "trainable_token_indices", "alora_invocation_tokens",
    "arrow_config",    "velora_config",       "monteclora_config",       "kasa_config"};

bool is_off(const nlohmann::json& v) {
  return v.is_null() || (v.is_boolean() && !v.get<bool>()) || ((v.is_array() || v.is_object()) && v.empty());
}

}  // namespace

void save_adapter(model::CausalLM& model, const LoraSettings& settings, const fs::path& dir,
                  const std::string& base_model, at::ScalarType dtype) {
  safetensors::NamedTensors tensors;
  for (auto& [name, t] : adapter_state(model)) tensors.emplace_back(name, t.to(at::kCPU, dtype));
  if (tensors.empty()) fail("save_adapter: the model carries no LoRA adapters");
  fs::create_directories(dir);
  safetensors::save_file(dir / kWeightsFile, tensors);
  save_adapter_config(settings, dir, base_model);
}

void save_adapter_config(const LoraSettings& settings, const fs::path& dir, const std::string& base_model) {
  // The keys PEFT's LoraConfig.save_pretrained writes that say what the
  // adapter computes; PEFT fills the rest with its defaults on loading.
  nlohmann::json config = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", base_model},
      {"r", settings.rank},
      {"lora_dropout", settings.dropout},
      {"target_modules", settings.target_modules},
      {"use_rslora", settings.use_rslora},
      {"bias", "none"},
      {"lora_bias", false},
      {"use_dora", false},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"init_lora_weights", true},
      {"modules_to_save", nullptr},
      {"layers_to_transform", nullptr},
      {"layers_pattern", nullptr},
      {"layer_replication", nullptr},
      {"exclude_modules", nullptr},
      {"rank_pattern", nlohmann::json::object()},
      {"alpha_pattern", nlohmann::json::object()},
      {"revision", nullptr},
  };
  // PEFT declares lora_alpha an int; keep whole numbers integral.
  if (settings.alpha == std::floor(settings.alpha) && std::abs(settings.alpha) < 1e15)
    config["lora_alpha"] = static_cast<int64_t>(settings.alpha);
  else
    config["lora_alpha"] = settings.alpha;
  write_file_atomic(dir / kConfigFile, config.dump(2) + "\n");
}

LoraSettings read_adapter_config(const fs::path& dir) {
  const fs::path path = dir / kConfigFile;
  const JsonConfig config = JsonConfig::load(path);
  const nlohmann::json raw = read_json_file(path);
  if (config.get_string("peft_type", "LORA") != "LORA")
    fail("{}: expected LORA, got '{}'", config.where("peft_type"), config.get_string("peft_type"));
  if (config.get_string("bias", "none") != "none")
    fail("{}: expected none (finch trains no biases), got '{}'", config.where("bias"), config.get_string("bias"));
  for (const char* key : kMustBeOff)
    if (raw.contains(key) && !is_off(raw[key]))
      fail("{}: {} is not supported (expected it absent, null, false or empty)", config.where(key), raw[key].dump());
  if (raw.contains("target_modules") && raw["target_modules"].is_string())
    fail("{}: a regular expression ({}) is not supported; expected a list of module names",
         config.where("target_modules"), raw["target_modules"].dump());

  LoraSettings settings;
  settings.rank = config.get_int("r", 8);
  settings.alpha = config.get_float("lora_alpha", 8);
  settings.dropout = config.get_float("lora_dropout", 0.0);
  settings.target_modules = config.get_strings("target_modules");
  settings.use_rslora = config.get_bool("use_rslora", false);
  try {
    settings.validate();
  } catch (const Error& e) {
    fail("{}: {}", path.string(), e.what());
  }
  return settings;
}

LoraSettings load_adapter(model::CausalLM& model, const fs::path& dir) {
  LoraSettings settings = read_adapter_config(dir);
  // The initial values are overwritten at once: draw them from a private
  // generator so that loading leaves torch's default one untouched.
  inject_lora(model, settings, at::make_generator<at::CPUGeneratorImpl>(0));
  load_adapter_weights(model, dir / kWeightsFile);
  return settings;
}

void load_adapter_weights(model::CausalLM& model, const fs::path& safetensors_file) {
  auto state = adapter_state(model);
  if (state.empty()) fail("{}: the model carries no LoRA adapters to load into", safetensors_file.string());
  const auto store = safetensors::TensorStore::open_file(safetensors_file);
  torch::NoGradGuard no_grad;
  // Nothing is copied until every tensor matches.
  const auto stored = safetensors::match_tensors(store, state, nullptr, safetensors_file.string() + ": adapter weights");
  for (size_t i = 0; i < state.size(); ++i) state[i].second.copy_(stored[i]);
}

}  // namespace finch::peft
