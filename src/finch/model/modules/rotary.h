// Rotary position embeddings as HF computes them: inverse frequencies in
// fp32 (default, linear or llama3 scaling), cos/sin per position cast to
// the activation dtype, rotate_half on the first rotary_dim of each head.
#pragma once

#include <ATen/ATen.h>

#include "finch/model/decoder_config.h"

namespace finch::model {

// [rotary_dim / 2] fp32.
at::Tensor rope_inverse_frequencies(const RopeConfig& rope, int64_t head_dim);

struct RotaryTables {
  at::Tensor cos;  // [B, T, rotary_dim]
  at::Tensor sin;
};

// positions: [B, T] integer.
RotaryTables rotary_tables(const at::Tensor& inv_freq, const at::Tensor& positions, at::ScalarType dtype);

// q: [B, H, T, D], k: [B, K, T, D]; rotates the first rotary_dim of D.
std::pair<at::Tensor, at::Tensor> apply_rotary(const at::Tensor& q, const at::Tensor& k, const RotaryTables& tables);

}  // namespace finch::model
