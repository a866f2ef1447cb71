// Builds a causal LM from an HF model directory and loads its weights by
// their HF names. Missing, unexpected or mis-shaped tensors are one error
// that lists them.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>

#include "finch/io/safetensors.h"
#include "finch/model/causal_lm.h"

namespace finch::model {

struct LoadOptions {
  at::ScalarType dtype = at::kFloat;
  at::Device device = at::kCPU;
  // Copy every weight into memory the model owns instead of keeping views of
  // the mapped file (which stays mapped, and counted, while any view lives):
  // for callers that free weights later (infer's packed kernels).
  bool copy_weights = false;
};

CausalLM load_causal_lm(const std::filesystem::path& dir, const LoadOptions& options = {});

// Copies every tensor of `store` into the parameters of `module` of the same
// name. Weights that keep their dtype on the CPU stay views of the mapped file.
void load_weights(torch::nn::Module& module, const safetensors::TensorStore& store, at::ScalarType dtype,
                  const std::string& source, bool tied_lm_head, bool copy = false);

}  // namespace finch::model
