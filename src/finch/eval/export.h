// finch export: a checkpoint as artifacts the rest of the ecosystem loads
// unchanged.
//   merged (default): the base with the LoRA adapter merged in, or the full
//     fine-tuned model, as an HF model folder (model/save.h), bf16 unless
//     told otherwise, written beside the checkpoint as checkpoint-N.hf_model/
//   adapter (merge = false, LoRA only): PEFT's adapter folder,
//     adapter_config.json + adapter_model.safetensors with PEFT's names,
//     fp32 unless told otherwise, as checkpoint-N.hf_peft/
// Either folder appears whole or not at all.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "finch/eval/checkpoint.h"

namespace finch::eval {

struct ExportOptions {
  CheckpointQuery source;
  std::string base_model;  // replaces the adapter's recorded base when set
  bool merge = true;
  std::optional<at::ScalarType> dtype;  // merged: bf16; adapter: fp32
  std::filesystem::path output;         // default: <checkpoint>.hf_model or <checkpoint>.hf_peft
  uint64_t max_shard_bytes = 5'000'000'000;  // "5GB"
};

struct ExportResult {
  std::filesystem::path checkpoint;
  CheckpointKind kind = CheckpointKind::lora_adapter;
  std::string base_model;
  std::filesystem::path output;
  bool merged = true;
  at::ScalarType dtype = at::kBFloat16;
  int64_t parameters = 0;  // stored tensors' elements (the adapter's alone for an adapter export)
  uint64_t bytes = 0;
  std::vector<std::string> files;  // every file written, in order
};

ExportResult export_checkpoint(const ExportOptions& options);

}  // namespace finch::eval
