// Finding and loading what finch train wrote, for finch test and finch export.
//
// A run folder (results/{hf_model_id}/ by default) holds checkpoint-{step}/
// folders, each either a LoRA adapter in PEFT's format (adapter_config.json
// + adapter_model.safetensors) or a full model in HF's (config.json +
// model.safetensors), plus tokenizer files and training state, and a
// MANIFEST.json that makes it complete (io/checkpoint_dir.h). Converted
// folders beside them (checkpoint-N.hf_model/, checkpoint-N.hf_peft/) are
// not checkpoints. A folder given explicitly may also be any PEFT adapter or
// HF model folder (no manifest): it is used as it is.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "finch/model/causal_lm.h"

namespace finch::eval {

// Where the checkpoint is, the first one set winning: a given folder, a run
// folder (its newest complete checkpoint-N), or the default run folder of a
// model id (results/{hf_model_id}, as finch train names it).
struct CheckpointQuery {
  std::filesystem::path checkpoint;
  std::filesystem::path results_dir;
  std::string hf_model_id;
};

// The checkpoint folder. One-line errors: a given folder that does not
// exist or whose MANIFEST.json does not match its files; a run folder that
// does not exist; a run folder without a complete checkpoint-N (naming the
// folder searched and, when there is one, why its newest checkpoint is torn).
// Never removes anything (a trainer may be writing into the run folder).
std::filesystem::path find_checkpoint(const CheckpointQuery& query);

enum class CheckpointKind { lora_adapter, full_model };
const char* kind_name(CheckpointKind kind);  // "LoRA adapter" | "full model"

struct CheckpointInfo {
  std::filesystem::path dir;
  CheckpointKind kind = CheckpointKind::lora_adapter;
  std::optional<int64_t> step;  // N of a checkpoint-N folder
  // The base model as named (adapter_config.json's base_model_name_or_path,
  // or the override; for a full model, the model its run started from when
  // trainer_state.json records it, else empty) and its folder (hub::model_dir;
  // for a full model, the checkpoint itself).
  std::string base_model;
  std::filesystem::path base_dir;
  // The checkpoint when it holds tokenizer files (finch train copies them),
  // else the base model's folder.
  std::filesystem::path tokenizer_dir;
  // A fully sharded checkpoint (io/sharded_state.h) is consolidated into a
  // temporary folder first; `dir` is that folder, removed when the last copy
  // of this info goes.
  std::shared_ptr<const std::filesystem::path> consolidated;
};

// What `dir` holds. `base_model`, when not empty, replaces the adapter's
// recorded base (a moved or renamed base folder). A folder with neither
// adapter_config.json nor config.json and weights is an error naming it.
// A fully sharded checkpoint is consolidated (its weights gathered into one
// file) in the temporary folder (TMPDIR), about the size of its weights.
CheckpointInfo describe_checkpoint(const std::filesystem::path& dir, const std::string& base_model = "");

struct CheckpointLoadOptions {
  at::ScalarType dtype = at::kFloat;  // the base weights' dtype (LoRA adapters stay fp32 until merged)
  at::Device device = at::kCPU;
  bool merge = true;  // LoRA: merge into the base and drop the adapters; false: keep them attached
  bool copy_weights = false;  // see model::LoadOptions::copy_weights
};

// The checkpoint's model, ready for inference (eval mode): the base with the
// adapter loaded (and merged, by default), or the full fine-tuned model.
model::CausalLM load_checkpoint_model(const CheckpointInfo& info, const CheckpointLoadOptions& options = {});

// The tokenizer files finch reads or copies that `dir` holds (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, chat_template.jinja, ...).
std::vector<std::filesystem::path> tokenizer_files(const std::filesystem::path& dir);

}  // namespace finch::eval
