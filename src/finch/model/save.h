// Writes a causal LM as a Hugging Face model folder, as transformers'
// save_pretrained lays it out, so that transformers, vLLM and TGI load it:
//   config.json            the source's, with "dtype" (and "torch_dtype"
//                          where present) set to the saved dtype
//   model.safetensors      or model-0000K-of-0000N.safetensors + index
//                          (huggingface_hub's shard plan, metadata format=pt);
//                          a tied lm_head is omitted as transformers omits it
//   generation_config.json copied, else made from config.json's token ids
//                          as transformers' GenerationConfig.from_model_config
//   tokenizer files        copied as they are
// The folder appears whole or not at all (core/files.h write_dir_atomic).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "finch/model/causal_lm.h"

namespace finch::model {

struct SaveOptions {
  at::ScalarType dtype = at::kBFloat16;
  uint64_t max_shard_bytes = 5'000'000'000;  // "5GB"
  std::filesystem::path config_json;             // the config.json to write from (required)
  std::filesystem::path generation_config_json;  // copied when set; else made from config_json
  std::vector<std::filesystem::path> copy_files;  // copied in under their own names (tokenizer files)
};

struct SavedModel {
  int64_t parameters = 0;                 // stored, i.e. without a tied lm_head
  uint64_t bytes = 0;                     // of the weights
  std::vector<std::string> weight_files;  // model.safetensors, or the shards then the index
};

// The tensors save_pretrained stores for `model`: named_parameters() in
// order (transformers' state_dict order), without a tied lm_head.
std::vector<std::pair<std::string, at::Tensor>> model_state(CausalLM& model);

// Converts `model` to options.dtype in place (one tensor at a time, so the
// peak is the model plus one tensor), then writes the folder.

// config.json text with the dtype keys set to `dtype` (keys keep their order).
std::string config_with_dtype(const std::filesystem::path& config_json, at::ScalarType dtype);
// generation_config.json text as transformers makes it from a config.json
// that comes without one (bos/eos/pad ids, the generation defaults).
std::string generation_config_from(const std::filesystem::path& config_json);

SavedModel save_pretrained(CausalLM& model, const std::filesystem::path& dir, const SaveOptions& options);

}  // namespace finch::model
