// A BERT-family encoder (HF BertModel / RobertaModel / XLMRobertaModel) with
// HF's module tree, so named_parameters() are the checkpoint's names:
//   embeddings.{word,position,token_type}_embeddings, embeddings.LayerNorm,
//   encoder.layer.N.attention.self.{query,key,value}, .attention.output.{dense,LayerNorm},
//   .intermediate.dense, .output.{dense,LayerNorm}
// Post-LN layers, erf GELU. B batch, T tokens, C hidden, H heads, D head dim.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "finch/model/encoder_config.h"
#include "finch/model/modules/basic.h"

namespace finch::model {

class LayerNormImpl : public torch::nn::Module {
 public:
  LayerNormImpl(int64_t dim, double eps, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);

  at::Tensor weight, bias;  // [dim]
  double eps;
};
TORCH_MODULE(LayerNorm);

class EncoderLayerImpl : public torch::nn::Module {
 public:
  EncoderLayerImpl(const EncoderConfig& config, const at::TensorOptions& options);
  // x: [B, T, C]; mask: [B, 1, 1, T] bool (true = a real key). Returns [B, T, C].
  at::Tensor forward(const at::Tensor& x, const at::Tensor& mask);

  Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
  LayerNorm attention_norm{nullptr};
  Linear intermediate{nullptr}, output_dense{nullptr};
  LayerNorm output_norm{nullptr};

 private:
  int64_t num_heads_;
  bool tanh_gelu_;
};
TORCH_MODULE(EncoderLayer);

class EncoderImpl : public torch::nn::Module {
 public:
  // Builds the first `num_layers` layers (all when nullopt): callers that
  // need an early layer's output need not hold the rest.
  EncoderImpl(EncoderConfig config, const at::TensorOptions& options, std::optional<int64_t> num_layers = {});

  // input_ids, attention_mask: [B, T] long (mask 1 = token, 0 = padding; may
  // be undefined: all tokens). Returns HF's hidden_states: index 0 is the
  // embeddings' output, index i the output of layer i, up to `up_to_layer`
  // (default: every built layer). Each [B, T, C].
  std::vector<at::Tensor> hidden_states(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                        std::optional<int64_t> up_to_layer = {});
  // hidden_states(...)[layer] without keeping the others; later layers are not run.
  at::Tensor hidden_state(const at::Tensor& input_ids, const at::Tensor& attention_mask, int64_t layer);

  const EncoderConfig& config() const { return config_; }
  int64_t built_layers() const { return static_cast<int64_t>(layers_.size()); }

  Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  LayerNorm embeddings_norm{nullptr};

 private:
  at::Tensor embed(const at::Tensor& input_ids);
  at::Tensor run(const at::Tensor& input_ids, const at::Tensor& attention_mask, int64_t layer,
                 std::vector<at::Tensor>* all);

  EncoderConfig config_;
  std::vector<EncoderLayer> layers_;
};
TORCH_MODULE(Encoder);

struct EncoderLoadOptions {
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  std::optional<int64_t> num_layers;  // build and load only the first N layers
};

// An encoder from an HF model directory (config.json + safetensors). The
// checkpoint's names may carry a "bert." / "roberta." prefix (the *ForMaskedLM
// checkpoints) and old LayerNorm names (gamma, beta); heads (pooler, cls.*,
// lm_head.*) are ignored. Missing or mis-shaped tensors are one error.
Encoder load_encoder(const std::filesystem::path& dir, const EncoderLoadOptions& options = {});

}  // namespace finch::model
