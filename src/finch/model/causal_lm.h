// A decoder-only causal language model with HF's module tree:
//   model.embed_tokens, model.layers.N.*, model.norm, lm_head
// so that named_parameters() are the checkpoint's tensor names.
#pragma once

#include <torch/nn/module.h>

#include <functional>
#include <torch/nn/modules/container/modulelist.h>

#include "finch/model/decoder_config.h"
#include "finch/model/kv_cache.h"
#include "finch/model/modules/decoder_layer.h"

namespace finch::model {

class DecoderModelImpl : public torch::nn::Module {
 public:
  DecoderModelImpl(const DecoderConfig& config, const at::TensorOptions& options);

  Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
};
TORCH_MODULE(DecoderModel);

// The attention masks of a forward pass, one per layer type ([B, 1, T, S]
// bool, true = may attend); undefined where plain causal attention is exact.
struct AttentionMasks {
  at::Tensor full;
  at::Tensor sliding;
};

class CausalLMImpl : public torch::nn::Module {
 public:
  CausalLMImpl(DecoderConfig config, const at::TensorOptions& options);

  // input_ids: [B, T] long. attention_mask: [B, T] (1 = token, 0 = padding) or
  // undefined. position_ids: [B, T] or undefined for 0..T-1 (as HF's forward).
  // Without an attention_mask, position_ids that restart (packed samples, see
  // build_attention_masks) keep each sample's attention within itself.
  // Returns logits [B, T, V] in the parameters' dtype.
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask = {},
                     const at::Tensor& position_ids = {});

  // Incremental decoding: input_ids [B, T] continue the sequences whose keys
  // and values `cache` holds (rows and order as there); position_ids [B, T].
  // masks: [B, 1, T, S] per layer type over the S = cached + T keys, or
  // undefined for plain causal attention over an empty cache, or for T = 1
  // (the new token sees every key). Returns the last token's logits [B, V].
  at::Tensor forward_cached(const at::Tensor& input_ids, const at::Tensor& position_ids, const AttentionMasks& masks,
                            KVCache& cache);

  const DecoderConfig& config() const { return config_; }

  // How forward runs each decoder layer: `layer` maps the hidden states to
  // the layer's output (it holds copies of the masks and rotary tables, so it
  // may be called again later); `index` is the layer's place in model.layers.
  // Unset: called directly. train/ sets it to recompute layers during
  // backward (activation checkpointing) and, in fully sharded runs, to gather
  // a layer's parameters around its forward and backward.
  using LayerFn = std::function<at::Tensor(const at::Tensor& hidden)>;
  using LayerRunner = std::function<at::Tensor(int64_t index, const LayerFn& layer, const at::Tensor& hidden)>;
  void set_layer_runner(LayerRunner runner) { layer_runner_ = std::move(runner); }

  // The output projection's kernel when lm_head is tied to model.embed_tokens
  // (see LinearKernel); unset: at::linear over the embedding weight.
  void set_tied_head_kernel(std::shared_ptr<LinearKernel> kernel) { tied_head_kernel_ = std::move(kernel); }

  DecoderModel model{nullptr};
  Linear lm_head{nullptr};  // null when tied to model.embed_tokens

 private:
  at::Tensor logits(const at::Tensor& hidden);  // final norm, then the (possibly tied) head

  DecoderConfig config_;
  at::Tensor inv_freq_;  // rotary inverse frequencies, fp32
  LayerRunner layer_runner_;
  std::shared_ptr<LinearKernel> tied_head_kernel_;
};
TORCH_MODULE(CausalLM);

// The masks each layer type needs ([B, 1, T, T] bool), undefined where
// plain causal attention is exact.
//
// Packed rows (transformers 5's masking_utils.find_packed_sequence_indices):
// when attention_mask is undefined and position_ids [B, T] are given, a token
// whose position is not its predecessor's + 1 starts a new sample; attention
// is then causal within each sample only (block diagonal), sliding layers too.
// With an attention_mask, position_ids never change the mask (as in HF).
AttentionMasks build_attention_masks(const at::Tensor& attention_mask, int64_t T, const DecoderConfig& config,
                                     at::Device device, const at::Tensor& position_ids = {});

// The sample index of every token of packed rows ([B, T] long, 0 for the
// first sample of a row), or undefined when no row holds more than one sample.
at::Tensor packed_sequence_indices(const at::Tensor& position_ids);

}  // namespace finch::model
