#include "finch/model/load.h"

#include <torch/csrc/autograd/grad_mode.h>


#include "finch/core/error.h"
#include "finch/model/registry.h"

namespace finch::model {
namespace {

// Tensors checkpoints carry that are not parameters.
bool ignorable(const std::string& name, bool tied_lm_head) {
  if (tied_lm_head && name == "lm_head.weight") return true;
  return name.ends_with(".rotary_emb.inv_freq");
}

}  // namespace

void load_weights(torch::nn::Module& module, const safetensors::TensorStore& store, at::ScalarType dtype,
                  const std::string& source, bool tied_lm_head, bool copy) {
  torch::NoGradGuard no_grad;
  safetensors::NamedTensors params;
  for (auto& item : module.named_parameters()) params.emplace_back(item.key(), item.value());
  const auto stored = safetensors::match_tensors(
      store, params, [&](const std::string& name) { return ignorable(name, tied_lm_head); },
      source + ": weights");
  for (size_t i = 0; i < params.size(); ++i)
    params[i].second.set_data(stored[i].to(dtype, /*non_blocking=*/false, /*copy=*/copy));
}

CausalLM load_causal_lm(const std::filesystem::path& dir, const LoadOptions& options) {
  const DecoderConfig config = read_decoder_config(JsonConfig::load(dir / "config.json"));
  CausalLM model(config, at::TensorOptions().dtype(options.dtype));
  const auto store = safetensors::TensorStore::open_model_dir(dir);
  load_weights(*model, store, options.dtype, dir.string(), config.tie_word_embeddings, options.copy_weights);
  model->to(options.device);
  model->eval();
  return model;
}

}  // namespace finch::model
