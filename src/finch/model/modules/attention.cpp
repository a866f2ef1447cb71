#include "finch/model/modules/attention.h"

#include <cmath>

namespace finch::model {

AttentionImpl::AttentionImpl(const DecoderConfig& c, const at::TensorOptions& options)
    : num_heads_(c.num_heads), num_kv_heads_(c.num_kv_heads), head_dim_(c.head_dim) {
  const int64_t q_dim = c.num_heads * c.head_dim;
  const int64_t kv_dim = c.num_kv_heads * c.head_dim;
  if (c.fused_qkv) {
    qkv_proj = register_module("qkv_proj", Linear(c.hidden_size, q_dim + 2 * kv_dim, c.qkv_bias, options));
  } else {
    q_proj = register_module("q_proj", Linear(c.hidden_size, q_dim, c.qkv_bias, options));
    k_proj = register_module("k_proj", Linear(c.hidden_size, kv_dim, c.qkv_bias, options));
    v_proj = register_module("v_proj", Linear(c.hidden_size, kv_dim, c.qkv_bias, options));
  }
  o_proj = register_module("o_proj", Linear(q_dim, c.hidden_size, c.o_bias, options));
  if (c.qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(c.head_dim, c.rms_norm_eps, options));
    k_norm = register_module("k_norm", RMSNorm(c.head_dim, c.rms_norm_eps, options));
  }
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const RotaryTables& rotary, const at::Tensor& mask,
                                  KVCache* cache, int64_t layer) {
  const int64_t B = x.size(0), T = x.size(1);
  at::Tensor q, k, v;
  if (qkv_proj) {
    const at::Tensor qkv = qkv_proj(x);  // [B, T, (H + 2K) D]
    const int64_t q_dim = num_heads_ * head_dim_, kv_dim = num_kv_heads_ * head_dim_;
    q = qkv.slice(-1, 0, q_dim);
    k = qkv.slice(-1, q_dim, q_dim + kv_dim);
    v = qkv.slice(-1, q_dim + kv_dim);
  } else {
    q = q_proj(x);
    k = k_proj(x);
    v = v_proj(x);
  }
  q = q.view({B, T, num_heads_, head_dim_});
  k = k.view({B, T, num_kv_heads_, head_dim_});
  v = v.view({B, T, num_kv_heads_, head_dim_}).transpose(1, 2);  // [B, K, T, D]
  if (q_norm) {
    q = q_norm(q);
    k = k_norm(k);
  }
  q = q.transpose(1, 2);  // [B, H, T, D]
  k = k.transpose(1, 2);  // [B, K, T, D]
  std::tie(q, k) = apply_rotary(q, k, rotary);
  if (cache) std::tie(k, v) = cache->append(layer, k, v);  // [B, K, S, D]

  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  const bool causal = !mask.defined();
  at::Tensor out = at::scaled_dot_product_attention(q, k, v, causal ? std::nullopt : std::optional<at::Tensor>(mask),
                                                    /*dropout_p=*/0.0, /*is_causal=*/causal && T > 1, scale,
                                                    /*enable_gqa=*/num_heads_ != num_kv_heads_);  // [B, H, T, D]
  return o_proj(out.transpose(1, 2).reshape({B, T, num_heads_ * head_dim_}));
}

}  // namespace finch::model
