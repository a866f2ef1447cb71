#include "finch/model/modules/mlp.h"

#include <ATen/ATen.h>

namespace finch::model {

MLPImpl::MLPImpl(const DecoderConfig& c, const at::TensorOptions& options) {
  if (c.fused_gate_up) {
    gate_up_proj = register_module("gate_up_proj", Linear(c.hidden_size, 2 * c.intermediate_size, c.mlp_bias, options));
  } else {
    gate_proj = register_module("gate_proj", Linear(c.hidden_size, c.intermediate_size, c.mlp_bias, options));
    up_proj = register_module("up_proj", Linear(c.hidden_size, c.intermediate_size, c.mlp_bias, options));
  }
  down_proj = register_module("down_proj", Linear(c.intermediate_size, c.hidden_size, c.mlp_bias, options));
}

at::Tensor MLPImpl::forward(const at::Tensor& x) {
  if (gate_up_proj) {
    const auto gate_up = gate_up_proj(x).chunk(2, -1);  // [gate; up] along the output
    return down_proj(gate_up[1] * at::silu(gate_up[0]));
  }
  // gate_proj runs before up_proj, as in HF: C++ leaves the operands of *
  // unordered, and with LoRA dropout each projection draws random numbers.
  const at::Tensor gate = at::silu(gate_proj(x));
  return down_proj(gate * up_proj(x));
}

}  // namespace finch::model
