#include "finch/model/modules/decoder_layer.h"

namespace finch::model {

DecoderLayerImpl::DecoderLayerImpl(const DecoderConfig& c, LayerType type_, const at::TensorOptions& options)
    : type(type_) {
  self_attn = register_module("self_attn", Attention(c, options));
  mlp = register_module("mlp", MLP(c, options));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
}

at::Tensor DecoderLayerImpl::forward(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                                     KVCache* cache, int64_t layer) {
  at::Tensor h = x + self_attn->forward(input_layernorm(x), rotary, mask, cache, layer);
  return h + mlp(post_attention_layernorm(h));
}

}  // namespace finch::model
