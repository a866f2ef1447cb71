#include "finch/data/batches.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "finch/core/error.h"

namespace finch::data {

Batch collate(const std::vector<Sample>& samples, const CollateOptions& options) {
  FINCH_CHECK(!samples.empty(), "an empty batch");
  Batch batch;
  batch.num_samples = static_cast<int64_t>(samples.size());
  std::vector<int64_t> ids, labels, positions, mask;
  int64_t B = 1, T = 0;
  if (options.packing) {
    for (const Sample& s : samples) {
      FINCH_CHECK(!s.input_ids.empty() && s.labels.size() == s.input_ids.size(), "a malformed sample");
      ids.insert(ids.end(), s.input_ids.begin(), s.input_ids.end());
      labels.push_back(kIgnoreIndex);  // DataCollatorWithFlattening's separator_id
      labels.insert(labels.end(), s.labels.begin() + 1, s.labels.end());
      for (std::size_t i = 0; i < s.input_ids.size(); ++i) positions.push_back(static_cast<int64_t>(i));
    }
    T = static_cast<int64_t>(ids.size());
  } else {
    B = batch.num_samples;
    for (const Sample& s : samples) T = std::max<int64_t>(T, static_cast<int64_t>(s.input_ids.size()));
    for (const Sample& s : samples) {
      FINCH_CHECK(s.labels.size() == s.input_ids.size(), "a malformed sample");
      const std::size_t pad = static_cast<std::size_t>(T) - s.input_ids.size();
      ids.insert(ids.end(), s.input_ids.begin(), s.input_ids.end());
      ids.insert(ids.end(), pad, options.pad_id);
      labels.insert(labels.end(), s.labels.begin(), s.labels.end());
      labels.insert(labels.end(), pad, kIgnoreIndex);
      mask.insert(mask.end(), s.input_ids.size(), 1);
      mask.insert(mask.end(), pad, 0);
      for (int64_t i = 0; i < T; ++i) positions.push_back(i);
    }
  }
  auto tensor = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).view({B, T}); };
  batch.input_ids = tensor(ids);
  batch.labels = tensor(labels);
  batch.position_ids = tensor(positions);
  if (!options.packing) batch.attention_mask = tensor(mask);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 1; t < T; ++t) batch.num_targets += labels[static_cast<std::size_t>(b * T + t)] != kIgnoreIndex;
  return batch;
}

int64_t pad_token_id(const tokenizer::PretrainedTokenizer& tokenizer) {
  const auto& specials = tokenizer.config.special_tokens;
  for (const char* name : {"pad_token", "eos_token"}) {
    auto it = specials.find(name);
    if (it == specials.end() || it->second.empty()) continue;
    if (auto id = tokenizer.tokenizer.token_to_id(it->second)) return *id;
  }
  fail("tokenizer_config.json: neither pad_token nor eos_token is set; padded batches need one");
}

at::Tensor causal_lm_loss_sum(const at::Tensor& logits, const at::Tensor& labels) {
  // HF's ForCausalLMLoss: position t predicts labels[t + 1].
  const int64_t V = logits.size(-1);
  const at::Tensor shifted = at::constant_pad_nd(labels, {0, 1}, kIgnoreIndex).slice(1, 1);  // [B, T]
  return at::cross_entropy_loss(logits.to(at::kFloat).reshape({-1, V}), shifted.reshape(-1).to(logits.device()), {},
                                at::Reduction::Sum, kIgnoreIndex);
}

at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels) {
  const at::Tensor count = (labels.slice(1, 1) != kIgnoreIndex).sum();
  return causal_lm_loss_sum(logits, labels) / count.to(at::kFloat).to(logits.device());
}

}  // namespace finch::data
