// Choosing the next token from the last position's logits, as transformers'
// generate does: greedy argmax, or temperature -> top-k -> top-p (its
// TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, in that order)
// then a draw from the softmax.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace finch::infer {

struct SamplingSettings {
  bool do_sample = false;    // false: greedy
  double temperature = 1.0;  // > 0
  int64_t top_k = 0;         // 0: off
  double top_p = 1.0;        // (0, 1]; 1: off
};

// Non-empty: one line naming the setting that is out of range.
std::string check_sampling(const SamplingSettings& s);

// logits: [B, V] fp32 -> the scores sampling draws from: filtered tokens are -inf.
at::Tensor warp_logits(const at::Tensor& logits, const SamplingSettings& s);

// [B, V] fp32 logits -> [B] long token ids.
at::Tensor next_tokens(const at::Tensor& logits, const SamplingSettings& s, at::Generator& generator);

}  // namespace finch::infer
