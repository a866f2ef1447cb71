#include "finch/model/causal_lm.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "finch/model/modules/rotary.h"

namespace finch::model {

DecoderModelImpl::DecoderModelImpl(const DecoderConfig& c, const at::TensorOptions& options) {
  embed_tokens = register_module("embed_tokens", Embedding(c.vocab_size, c.hidden_size, options));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) layers->push_back(DecoderLayer(c, c.layer_types[i], options));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps, options));
}

CausalLMImpl::CausalLMImpl(DecoderConfig config, const at::TensorOptions& options) : config_(std::move(config)) {
  model = register_module("model", DecoderModel(config_, options));
  if (!config_.tie_word_embeddings)
    lm_head = register_module("lm_head", Linear(config_.hidden_size, config_.vocab_size, false, options));
  inv_freq_ = rope_inverse_frequencies(config_.rope, config_.head_dim);
}

at::Tensor packed_sequence_indices(const at::Tensor& position_ids) {
  // A new sample wherever the position is not the previous one + 1; the first
  // token compares with a dummy predecessor (its own position - 1).
  const at::Tensor first = position_ids.slice(1, 0, 1) - 1;
  const at::Tensor diff = at::diff(position_ids, 1, -1, first);
  const at::Tensor index = (diff != 1).to(at::kLong).cumsum(-1);  // [B, T]
  if ((index.select(1, -1) == 0).all().item<bool>()) return {};
  return index;
}

AttentionMasks build_attention_masks(const at::Tensor& attention_mask, int64_t T, const DecoderConfig& c,
                                     at::Device device, const at::Tensor& position_ids) {
  const bool padded = attention_mask.defined() && !attention_mask.all().item<bool>();
  const at::Tensor packed =
      !attention_mask.defined() && position_ids.defined() ? packed_sequence_indices(position_ids.to(device)) : at::Tensor();
  const bool has_sliding = std::count(c.layer_types.begin(), c.layer_types.end(), LayerType::kSliding) > 0;
  const bool window_binds = has_sliding && c.sliding_window && T > *c.sliding_window;
  AttentionMasks masks;
  if (!padded && !packed.defined() && !window_binds) return masks;

  const at::Tensor pos = at::arange(T, at::TensorOptions().dtype(at::kLong).device(device));
  const at::Tensor q = pos.unsqueeze(1), k = pos.unsqueeze(0);
  at::Tensor full = (k <= q).unsqueeze(0).unsqueeze(0);  // [1, 1, T, T]
  if (packed.defined()) {
    // Within a sample positions count up by one, so index distance is position
    // distance and the causal and sliding-window tests below stay exact.
    const at::Tensor same_sample = packed.unsqueeze(2) == packed.unsqueeze(1);  // [B, T, T]
    full = at::logical_and(full, same_sample.unsqueeze(1));                     // [B, 1, T, T]
    masks.full = full;
  }
  if (padded) {
    const at::Tensor key_valid = attention_mask.to(device).to(at::kBool).unsqueeze(1).unsqueeze(1);  // [B, 1, 1, T]
    // A padding query sees at least itself, so no row is empty; its output is never used.
    full = at::logical_or(at::logical_and(full, key_valid), q == k);
    masks.full = full;
  }
  masks.sliding = window_binds ? at::logical_and(full, (q - k) < *c.sliding_window) : masks.full;
  return masks;
}

at::Tensor CausalLMImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                 const at::Tensor& position_ids) {
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  const at::Device device = input_ids.device();
  at::Tensor positions = position_ids;
  if (!positions.defined())
    positions = at::arange(T, at::TensorOptions().dtype(at::kLong).device(device)).unsqueeze(0).expand({B, T});
  at::Tensor h = model->embed_tokens(input_ids);  // [B, T, C]
  const RotaryTables rotary = rotary_tables(inv_freq_, positions, h.scalar_type());
  const AttentionMasks masks = build_attention_masks(attention_mask, T, config_, device, position_ids);
  int64_t index = 0;
  for (const auto& module : *model->layers) {
    auto* layer = module->as<DecoderLayerImpl>();
    const at::Tensor mask = layer->type == LayerType::kSliding ? masks.sliding : masks.full;
    LayerFn run = [layer, rotary, mask](const at::Tensor& x) { return layer->forward(x, rotary, mask); };
    h = layer_runner_ ? layer_runner_(index, run, h) : run(h);
    ++index;
  }
  return logits(h);
}

at::Tensor CausalLMImpl::logits(const at::Tensor& hidden) {
  const at::Tensor h = model->norm(hidden);
  if (lm_head) return lm_head(h);
  if (tied_head_kernel_) return tied_head_kernel_->forward(h);
  return at::linear(h, model->embed_tokens->weight);  // [B, T, V]
}

at::Tensor CausalLMImpl::forward_cached(const at::Tensor& input_ids, const at::Tensor& position_ids,
                                        const AttentionMasks& masks, KVCache& cache) {
  at::Tensor h = model->embed_tokens(input_ids);  // [B, T, C]
  const RotaryTables rotary = rotary_tables(inv_freq_, position_ids, h.scalar_type());
  int64_t index = 0;
  for (const auto& module : *model->layers) {
    auto* layer = module->as<DecoderLayerImpl>();
    const at::Tensor& mask = layer->type == LayerType::kSliding ? masks.sliding : masks.full;
    h = layer->forward(h, rotary, mask, &cache, index++);
  }
  return logits(h.select(1, -1)).to(at::kFloat);  // only the last token is ever sampled: [B, V]
}

}  // namespace finch::model
