// The gated MLP: down(silu(gate(x)) * up(x)); Phi3 fuses gate and up.
#pragma once

#include <torch/nn/module.h>

#include "finch/model/decoder_config.h"
#include "finch/model/modules/basic.h"

namespace finch::model {

class MLPImpl : public torch::nn::Module {
 public:
  MLPImpl(const DecoderConfig& config, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);  // [B, T, C] -> [B, T, C]

  Linear gate_proj{nullptr}, up_proj{nullptr}, gate_up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(MLP);

}  // namespace finch::model
