// Grouped-query self-attention through scaled_dot_product_attention.
// B batch, T tokens, C hidden, H query heads, K key/value heads, D head dim.
#pragma once

#include <torch/nn/module.h>

#include "finch/model/decoder_config.h"
#include "finch/model/kv_cache.h"
#include "finch/model/modules/basic.h"
#include "finch/model/modules/rotary.h"

namespace finch::model {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const DecoderConfig& config, const at::TensorOptions& options);

  // x: [B, T, C]. mask: [B, 1, T, S] bool (true = may attend), or undefined
  // for plain causal attention. Returns [B, T, C]. Without a cache S = T;
  // with one, this step's keys and values go to cache->append(layer, ...)
  // and S counts every token the cache holds.
  at::Tensor forward(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                     KVCache* cache = nullptr, int64_t layer = 0);

  // HF names: q_proj, k_proj, v_proj (or qkv_proj), o_proj, q_norm, k_norm.
  Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, qkv_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_norm{nullptr}, k_norm{nullptr};

 private:
  int64_t num_heads_, num_kv_heads_, head_dim_;
};
TORCH_MODULE(Attention);

}  // namespace finch::model
