// Linear, Embedding and RMSNorm with HF's parameter names and numerics.
// Parameters are created uninitialised; weights are loaded by name.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace finch::model {

// What a transform from outside (peft/'s LoRA) adds to a linear layer's
// output: forward(x, base_output) -> output. The layer owns it; the
// transform registers the adapter's parameters on the layer itself.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  virtual at::Tensor forward(const at::Tensor& x, const at::Tensor& base_output) = 0;
};

// How x W^T + b is computed, when not by at::linear: infer/ sets kernels
// over prepacked copies of the weights for decoding on the CPU.
class LinearKernel {
 public:
  virtual ~LinearKernel() = default;
  virtual at::Tensor forward(const at::Tensor& x) = 0;
};

class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t in_features, int64_t out_features, bool bias, const at::TensorOptions& options);
  // x W^T + b (by the kernel when one is set), then the adapter's transform.
  at::Tensor forward(const at::Tensor& x);

  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out] or undefined
  std::shared_ptr<LinearAdapter> adapter;
  std::shared_ptr<LinearKernel> kernel;
};
TORCH_MODULE(Linear);

class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t num_embeddings, int64_t dim, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& ids);  // [B, T] -> [B, T, C]

  at::Tensor weight;  // [V, C]
};
TORCH_MODULE(Embedding);

// HF's RMSNorm: normalise in fp32, cast back, then scale.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps, const at::TensorOptions& options);
  at::Tensor forward(const at::Tensor& x);

  at::Tensor weight;  // [dim]
  double eps;
};
TORCH_MODULE(RMSNorm);

}  // namespace finch::model
