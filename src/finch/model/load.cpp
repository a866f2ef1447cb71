#include "finch/model/load.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <set>

#include "finch/core/error.h"
#include "finch/model/registry.h"

namespace finch::model {
namespace {

std::string list(const std::vector<std::string>& items) {
  constexpr size_t kShown = 8;
  std::string out;
  for (size_t i = 0; i < items.size() && i < kShown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > kShown) out += fmt::format(" and {} more", items.size() - kShown);
  return out;
}

std::string shape(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); }

// Tensors checkpoints carry that are not parameters.
bool ignorable(const std::string& name, bool tied_lm_head) {
  if (tied_lm_head && name == "lm_head.weight") return true;
  return name.ends_with(".rotary_emb.inv_freq");
}

}  // namespace

void load_weights(torch::nn::Module& module, const safetensors::TensorStore& store, at::ScalarType dtype,
                  const std::string& source, bool tied_lm_head) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> missing, misshaped;
  std::set<std::string> used;
  for (auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& param = item.value();
    if (!store.contains(name)) {
      missing.push_back(name);
      continue;
    }
    used.insert(name);
    const auto& info = store.info(name);
    if (at::IntArrayRef(info.shape) != param.sizes()) {
      misshaped.push_back(fmt::format("{} is {} (expected {})", name, shape(info.shape), shape(param.sizes())));
      continue;
    }
    param.set_data(store.get(name).to(dtype));
  }
  std::vector<std::string> unexpected;
  for (const auto& name : store.names())
    if (!used.count(name) && !ignorable(name, tied_lm_head)) unexpected.push_back(name);
  std::string faults;
  if (!missing.empty()) faults += fmt::format("; missing {}: {}", missing.size(), list(missing));
  if (!unexpected.empty()) faults += fmt::format("; unexpected {}: {}", unexpected.size(), list(unexpected));
  if (!misshaped.empty()) faults += fmt::format("; mis-shaped {}: {}", misshaped.size(), list(misshaped));
  if (!faults.empty()) fail("{}: weights do not match the model{}", source, faults);
}

CausalLM load_causal_lm(const std::filesystem::path& dir, const LoadOptions& options) {
  const DecoderConfig config = read_decoder_config(JsonConfig::load(dir / "config.json"));
  CausalLM model(config, at::TensorOptions().dtype(options.dtype));
  const auto store = safetensors::TensorStore::open_model_dir(dir);
  load_weights(*model, store, options.dtype, dir.string(), config.tie_word_embeddings);
  model->to(options.device);
  model->eval();
  return model;
}

}  // namespace finch::model
