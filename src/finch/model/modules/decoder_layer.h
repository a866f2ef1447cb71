// A pre-norm decoder block: x + attn(norm(x)), then x + mlp(norm(x)).
#pragma once

#include <torch/nn/module.h>

#include "finch/model/modules/attention.h"
#include "finch/model/modules/mlp.h"

namespace finch::model {

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const DecoderConfig& config, LayerType type, const at::TensorOptions& options);
  // See AttentionImpl::forward for the mask and the cache.
  at::Tensor forward(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                     KVCache* cache = nullptr, int64_t layer = 0);

  LayerType type;
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  MLP mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

}  // namespace finch::model
