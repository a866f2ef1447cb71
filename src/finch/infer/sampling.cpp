#include "finch/infer/sampling.h"

#include <fmt/format.h>

#include <limits>

namespace finch::infer {

std::string check_sampling(const SamplingSettings& s) {
  if (!s.do_sample) return {};
  if (!(s.temperature > 0)) return fmt::format("temperature must be > 0 when sampling (0 means greedy), got {}", s.temperature);
  if (s.top_k < 0) return fmt::format("top_k must be >= 0 (0: off), got {}", s.top_k);
  if (!(s.top_p > 0 && s.top_p <= 1)) return fmt::format("top_p must be in (0, 1], got {}", s.top_p);
  return {};
}

at::Tensor warp_logits(const at::Tensor& logits, const SamplingSettings& s) {
  const double minus_inf = -std::numeric_limits<double>::infinity();
  at::Tensor scores = logits;
  if (s.temperature != 1.0) scores = scores / s.temperature;
  if (s.top_k > 0) {
    const int64_t k = std::min(s.top_k, scores.size(-1));
    const at::Tensor kth = std::get<0>(at::topk(scores, k)).select(-1, k - 1).unsqueeze(-1);
    scores = scores.masked_fill(scores < kth, minus_inf);
  }
  if (s.top_p < 1.0) {
    // Ascending order: drop the low tail whose total probability is <= 1 - top_p; the top token always stays.
    auto [sorted, order] = at::sort(scores, /*dim=*/-1, /*descending=*/false);
    at::Tensor remove = sorted.softmax(-1).cumsum(-1) <= (1 - s.top_p);
    remove.select(-1, -1).fill_(false);
    scores = scores.masked_fill(remove.scatter(-1, order, remove), minus_inf);
  }
  return scores;
}

at::Tensor next_tokens(const at::Tensor& logits, const SamplingSettings& s, at::Generator& generator) {
  if (!s.do_sample) return logits.argmax(-1);
  const at::Tensor probs = warp_logits(logits, s).softmax(-1);
  return at::multinomial(probs, 1, /*replacement=*/false, generator).squeeze(1);
}

}  // namespace finch::infer
