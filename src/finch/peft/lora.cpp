#include "finch/peft/lora.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <cmath>
#include <set>

#include "finch/core/error.h"
#include "finch/peft/lora_layer.h"

namespace finch::peft {

void LoraSettings::describe(config::Registry& registry) {
  auto s = registry.section("lora", "LoRA adapters (PEFT's LoraConfig), trained when train.full_ft is false.");
  s.add("rank", rank, "r: the rank of each adapter").alias("lora_rank");
  s.add("alpha", alpha, "lora_alpha: the adapter's output is scaled by alpha / rank (alpha / sqrt(rank) with "
                        "use_rslora)")
      .alias("lora_alpha");
  s.add("dropout", dropout, "dropout on the adapters' input while training, in [0, 1)").alias("lora_dropout");
  s.add("target_modules", target_modules,
        "the linear layers to adapt: a name matches a module called so or whose name ends in '.<name>'")
      .alias("lora_target_modules");
  s.add("use_rslora", use_rslora, "rank-stabilised LoRA: scale by alpha / sqrt(rank)");
}

void LoraSettings::validate() const {
  if (rank < 1) fail("lora.rank: expected a positive integer, got {}", rank);
  if (!(alpha > 0)) fail("lora.alpha: expected a positive number, got {}", alpha);
  if (!(dropout >= 0 && dropout < 1)) fail("lora.dropout: expected a probability in [0, 1), got {}", dropout);
  if (target_modules.empty()) fail("lora.target_modules: expected at least one module name, got none");
  for (const auto& t : target_modules)
    if (t.empty()) fail("lora.target_modules: expected module names, got an empty one");
}

double LoraSettings::scaling() const {
  return use_rslora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

at::Tensor LoraAdapter::forward(const at::Tensor& x, const at::Tensor& base_output) {
  if (merged) return base_output;
  at::Tensor h = x.to(lora_A->weight.scalar_type());
  // PEFT uses nn.Identity when p is 0: no dropout call, no random numbers drawn.
  if (dropout > 0) h = at::dropout(h, dropout, owner_->is_training());
  return (base_output + lora_B->forward(lora_A->forward(h)) * scaling).to(base_output.scalar_type());
}

at::Tensor LoraAdapter::delta_weight() const { return at::matmul(lora_B->weight, lora_A->weight) * scaling; }

std::vector<LoraLayer> lora_layers(model::CausalLM& model) {
  std::vector<LoraLayer> out;
  for (const auto& item : model->named_modules()) {
    auto* linear = item.value()->as<model::LinearImpl>();
    if (linear == nullptr) continue;
    if (auto* adapter = dynamic_cast<LoraAdapter*>(linear->adapter.get()))
      out.push_back({item.key(), linear, adapter});
  }
  return out;
}

namespace {

bool matches(const std::string& name, const std::string& target) {
  return name == target || name.ends_with("." + target);
}

// U(-b, b) with b as torch.nn.init.kaiming_uniform_(w, a=sqrt(5)) computes it, in the same double steps.
void kaiming_uniform(at::Tensor& w, const std::optional<at::Generator>& generator) {
  const double a = std::sqrt(5.0);
  const double gain = std::sqrt(2.0 / (1 + std::pow(a, 2.0)));
  const double bound = std::sqrt(3.0) * (gain / std::sqrt(static_cast<double>(w.size(1))));
  w.uniform_(-bound, bound, generator);
}

}  // namespace

std::vector<std::pair<std::string, model::LinearImpl*>> lora_target_layers(model::CausalLM& model,
                                                                           const LoraSettings& settings) {
  std::vector<std::pair<std::string, model::LinearImpl*>> linears, targets;
  for (const auto& item : model->named_modules())
    if (auto* linear = item.value()->as<model::LinearImpl>()) linears.emplace_back(item.key(), linear);
  for (const auto& target : settings.target_modules) {
    bool found = false;
    for (const auto& [name, linear] : linears) found = found || matches(name, target);
    if (found) continue;
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (const auto& [name, linear] : linears) {
      const std::string short_name = name.substr(name.rfind('.') + 1);
      if (seen.insert(short_name).second) names.push_back(short_name);
    }
    fail("lora.target_modules: '{}' names no linear layer of the model; its linear layers are: {}", target,
         fmt::join(names, ", "));
  }
  for (const auto& [name, linear] : linears)
    for (const auto& target : settings.target_modules)
      if (matches(name, target)) {
        targets.emplace_back(name, linear);
        break;
      }
  return targets;
}

std::vector<std::string> inject_lora(model::CausalLM& model, const LoraSettings& settings,
                                     std::optional<at::Generator> generator) {
  settings.validate();
  if (has_lora(model)) fail("inject_lora: the model already carries LoRA adapters");
  const auto targets = lora_target_layers(model, settings);

  for (auto& p : model->parameters()) p.set_requires_grad(false);
  torch::NoGradGuard no_grad;
  const auto fp32 = at::TensorOptions().dtype(at::kFloat);
  std::vector<std::string> names;
  for (const auto& [name, linear] : targets) {
    const int64_t out_features = linear->weight.size(0), in_features = linear->weight.size(1);
    model::Linear lora_A(in_features, settings.rank, false, fp32);
    model::Linear lora_B(settings.rank, out_features, false, fp32);
    // PEFT builds both as nn.Linear (each constructor draws its kaiming
    // init), then draws lora_A again and zeroes lora_B. Drawing the same
    // sequence makes a seeded finch run start from PEFT's adapters.
    kaiming_uniform(lora_A->weight, generator);
    kaiming_uniform(lora_B->weight, generator);
    kaiming_uniform(lora_A->weight, generator);
    lora_B->weight.zero_();
    lora_A->to(linear->weight.device());
    lora_B->to(linear->weight.device());
    linear->register_module("lora_A", lora_A);
    linear->register_module("lora_B", lora_B);
    lora_A->weight.set_requires_grad(true);
    lora_B->weight.set_requires_grad(true);
    linear->adapter = std::make_shared<LoraAdapter>(*linear, lora_A, lora_B, settings.scaling(), settings.dropout);
    names.push_back(name);
  }
  return names;
}

bool has_lora(model::CausalLM& model) { return !lora_layers(model).empty(); }

std::vector<std::pair<std::string, at::Tensor>> adapter_state(model::CausalLM& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& layer : lora_layers(model)) {
    out.emplace_back("base_model.model." + layer.name + ".lora_A.weight", layer.adapter->lora_A->weight.detach());
    out.emplace_back("base_model.model." + layer.name + ".lora_B.weight", layer.adapter->lora_B->weight.detach());
  }
  return out;
}

namespace {

std::vector<LoraLayer> adapted_layers(model::CausalLM& model, const char* what) {
  auto layers = lora_layers(model);
  if (layers.empty()) fail("{}: the model carries no LoRA adapters", what);
  return layers;
}

}  // namespace

// As PEFT's lora.Linear.merge (safe_merge off) and unmerge: W += delta in W's
// dtype; unmerge casts delta to W's dtype first.
void merge(model::CausalLM& model) {
  auto layers = adapted_layers(model, "merge");
  for (const auto& layer : layers)
    if (layer.adapter->merged) fail("merge: the LoRA adapters are already merged");
  torch::NoGradGuard no_grad;
  for (auto& layer : layers) {
    layer.linear->weight.add_(layer.adapter->delta_weight());
    layer.adapter->merged = true;
  }
}

void unmerge(model::CausalLM& model) {
  auto layers = adapted_layers(model, "unmerge");
  for (const auto& layer : layers)
    if (!layer.adapter->merged) fail("unmerge: the LoRA adapters are not merged");
  torch::NoGradGuard no_grad;
  for (auto& layer : layers) {
    at::Tensor& w = layer.linear->weight;
    w.sub_(layer.adapter->delta_weight().to(w.scalar_type()));
    layer.adapter->merged = false;
  }
}

void merge_and_unload(model::CausalLM& model) {
  auto layers = adapted_layers(model, "merge_and_unload");
  torch::NoGradGuard no_grad;
  for (auto& layer : layers) {
    if (!layer.adapter->merged) layer.linear->weight.add_(layer.adapter->delta_weight());
    layer.linear->unregister_module("lora_A");
    layer.linear->unregister_module("lora_B");
    layer.linear->adapter.reset();
  }
}

}  // namespace finch::peft
