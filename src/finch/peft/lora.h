// LoRA as PEFT computes it, applied to a built model from outside:
//   y = base(x) + lora_B(lora_A(dropout(x))) * scaling
// with scaling = alpha / r (alpha / sqrt(r) with use_rslora), lora_A
// initialised as PEFT's default (kaiming_uniform_ with a = sqrt(5), i.e.
// U(-1/sqrt(in), 1/sqrt(in))) and lora_B zero, so the adapted model starts
// equal to the base. Targets are matched by module name as PEFT does (a
// target "q_proj" matches every module whose name is q_proj or ends in
// ".q_proj"). Only the adapters are trainable after inject_lora.
//
// In memory the adapter parameters are named <module>.lora_A.weight and
// <module>.lora_B.weight (registered on the adapted Linear); on disk they use
// PEFT's names, base_model.model.<module>.lora_{A,B}.weight, in
// adapter_model.safetensors beside adapter_config.json, so that
// peft.PeftModel.from_pretrained loads them unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "finch/core/config.h"
#include "finch/model/causal_lm.h"

namespace finch::peft {

struct LoraSettings {
  int64_t rank = 32;
  double alpha = 32;
  double dropout = 0.1;
  std::vector<std::string> target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  bool use_rslora = false;

  // Section "lora"; aliases lora_rank, lora_alpha, lora_dropout, lora_target_modules.
  void describe(config::Registry& registry);
  // One-line errors naming the key: rank >= 1, alpha > 0, 0 <= dropout < 1, targets not empty.
  void validate() const;
  double scaling() const;
};

// The Linear layers the targets name, in model order (what inject_lora
// adapts); a target that names no module is the same error as there.
std::vector<std::pair<std::string, model::LinearImpl*>> lora_target_layers(model::CausalLM& model,
                                                                           const LoraSettings& settings);

// Adds LoRA adapters to every Linear the targets name, freezes every other
// parameter (requires_grad false) and returns the adapted module names in
// model order. The new lora_A weights are drawn from `generator` (or torch's
// default CPU generator when undefined) on the CPU in fp32, then moved to the
// base weight's device; adapters are fp32 whatever the base dtype. A target
// that names no module is an error listing the model's linear layer names.
std::vector<std::string> inject_lora(model::CausalLM& model, const LoraSettings& settings,
                                     std::optional<at::Generator> generator = std::nullopt);

// Whether the model carries LoRA adapters (inject_lora or load_adapter ran).
bool has_lora(model::CausalLM& model);

// The adapter tensors under PEFT's names (base_model.model.<module>.lora_A.weight ...), in model order.
std::vector<std::pair<std::string, at::Tensor>> adapter_state(model::CausalLM& model);

// Writes adapter_config.json and adapter_model.safetensors (fp32 unless `dtype` says otherwise) into
// `dir` atomically file by file. base_model is written as base_model_name_or_path.
void save_adapter(model::CausalLM& model, const LoraSettings& settings, const std::filesystem::path& dir,
                  const std::string& base_model, at::ScalarType dtype = at::kFloat);
// adapter_config.json alone (a sharded checkpoint keeps the weights in shards).
void save_adapter_config(const LoraSettings& settings, const std::filesystem::path& dir, const std::string& base_model);

// Reads a PEFT adapter directory: its settings from adapter_config.json (an
// unsupported field value, e.g. fan_in_fan_out true or a bias other than
// "none", is an error naming the file and key).
LoraSettings read_adapter_config(const std::filesystem::path& dir);

// Injects adapters as the directory's adapter_config.json says and loads its
// weights (missing, unexpected or misshapen tensors: one error naming them).
// Returns the settings read.
LoraSettings load_adapter(model::CausalLM& model, const std::filesystem::path& dir);

// Copies adapter weights by PEFT name into an already adapted model (as load_adapter, without injecting).
void load_adapter_weights(model::CausalLM& model, const std::filesystem::path& safetensors_file);

// W += scaling * B A on every adapted Linear (then the adapter is bypassed);
// unmerge subtracts it again. Merging twice or unmerging unmerged is an error.
void merge(model::CausalLM& model);
void unmerge(model::CausalLM& model);
// Merges and removes the adapters: a plain model with HF's names again.
void merge_and_unload(model::CausalLM& model);

}  // namespace finch::peft
