// The LoRA adapter a Linear carries after inject_lora, and the walk over a
// model's adapted layers; private to peft/.
#pragma once

#include <string>
#include <vector>

#include "finch/model/causal_lm.h"

namespace finch::peft {

// PEFT's lora.Linear forward, minus the base layer (which LinearImpl runs):
//   out = base + lora_B(lora_A(dropout(x.to(A's dtype)))) * scaling, cast back to base's dtype.
// lora_A and lora_B are registered on the owning Linear, which also owns this
// object; the adapter follows that Linear's train/eval mode for dropout.
class LoraAdapter : public model::LinearAdapter {
 public:
  LoraAdapter(const model::LinearImpl& owner, model::Linear lora_A, model::Linear lora_B, double scaling,
              double dropout)
      : lora_A(std::move(lora_A)), lora_B(std::move(lora_B)), scaling(scaling), dropout(dropout), owner_(&owner) {}

  at::Tensor forward(const at::Tensor& x, const at::Tensor& base_output) override;

  // B A * scaling, [out, in] in the adapters' dtype: what merge adds to W.
  at::Tensor delta_weight() const;

  model::Linear lora_A;  // weight [r, in]
  model::Linear lora_B;  // weight [out, r]
  double scaling;
  double dropout;
  bool merged = false;  // W already holds B A * scaling; forward adds nothing

 private:
  const model::LinearImpl* owner_;  // owns this adapter, so outlives it
};

struct LoraLayer {
  std::string name;  // module name, e.g. model.layers.0.self_attn.q_proj
  model::LinearImpl* linear;
  LoraAdapter* adapter;
};

// Every Linear that carries a LoRA adapter, in model order.
std::vector<LoraLayer> lora_layers(model::CausalLM& model);

}  // namespace finch::peft
