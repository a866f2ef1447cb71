#include "finch/model/modules/rotary.h"

#include <cmath>

namespace finch::model {

at::Tensor rope_inverse_frequencies(const RopeConfig& rope, int64_t head_dim) {
  const auto dim = static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  // The expressions mirror transformers' (x / t is reciprocal(t) * x there).
  const at::Tensor exponents = at::arange(0, dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(dim);
  at::Tensor inv_freq = at::reciprocal(at::pow(rope.theta, exponents));
  if (rope.type == "linear") return inv_freq / rope.factor;
  if (rope.type != "llama3") return inv_freq;

  const double old_context = static_cast<double>(rope.original_max_position_embeddings);
  const double low_freq_wavelen = old_context / rope.low_freq_factor;
  const double high_freq_wavelen = old_context / rope.high_freq_factor;
  const at::Tensor wavelen = at::reciprocal(inv_freq) * (2 * M_PI);
  // Long wavelengths are divided by factor, short ones kept, the band between smoothed.
  at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / rope.factor, inv_freq);
  const at::Tensor smooth = (at::reciprocal(wavelen) * old_context - rope.low_freq_factor) /
                            (rope.high_freq_factor - rope.low_freq_factor);
  const at::Tensor smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
  const at::Tensor is_medium = at::logical_not(wavelen < high_freq_wavelen) * at::logical_not(wavelen > low_freq_wavelen);
  return at::where(is_medium, smoothed, scaled);
}

RotaryTables rotary_tables(const at::Tensor& inv_freq, const at::Tensor& positions, at::ScalarType dtype) {
  const at::Tensor freqs = positions.unsqueeze(-1).to(at::kFloat) * inv_freq.to(positions.device());  // [B, T, R/2]
  const at::Tensor emb = at::cat({freqs, freqs}, -1);                                                   // [B, T, R]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

namespace {

at::Tensor rotate_half(const at::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return at::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

at::Tensor rotate(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t rotary_dim = cos.size(-1);
  if (rotary_dim == x.size(-1)) return x * cos + rotate_half(x) * sin;
  const at::Tensor x_rot = x.slice(-1, 0, rotary_dim);
  const at::Tensor x_pass = x.slice(-1, rotary_dim);
  return at::cat({x_rot * cos + rotate_half(x_rot) * sin, x_pass}, -1);
}

}  // namespace

std::pair<at::Tensor, at::Tensor> apply_rotary(const at::Tensor& q, const at::Tensor& k, const RotaryTables& tables) {
  const at::Tensor cos = tables.cos.unsqueeze(1);  // [B, 1, T, R]
  const at::Tensor sin = tables.sin.unsqueeze(1);
  return {rotate(q, cos, sin), rotate(k, cos, sin)};
}

}  // namespace finch::model
