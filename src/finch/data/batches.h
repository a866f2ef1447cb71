// Batches of samples for a causal LM, packed or padded.
//
// Packed (the default) is transformers' DataCollatorWithFlattening: the B
// samples concatenated into one row [1, sum(len)], position_ids restarting at
// 0 for every sample, each sample's first label set to -100 so that no loss
// crosses a boundary, and no attention_mask: the model sees the restarting
// position_ids and keeps attention within each sample (see
// model::build_attention_masks).
//
// Padded: right padding to the longest sample, with the pad id (the
// tokenizer's pad token, else its eos), labels -100 and attention_mask 0 on
// the padding; position_ids 0..T-1 on every row.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "finch/data/samples.h"

namespace finch::data {

struct Batch {
  at::Tensor input_ids;       // [B, T] long (B = 1 when packed)
  at::Tensor labels;          // [B, T] long, -100 where no target
  at::Tensor position_ids;    // [B, T] long
  at::Tensor attention_mask;  // [B, T] long when padded; undefined when packed
  // Targets of the shifted causal loss: labels[:, 1:] != -100 (what HF's
  // Trainer counts as num_items_in_batch).
  int64_t num_targets = 0;
  int64_t num_samples = 0;
};

struct CollateOptions {
  bool packing = true;
  int64_t pad_id = 0;
};

Batch collate(const std::vector<Sample>& samples, const CollateOptions& options);

// The pad token's id, else the eos token's (error when there is neither).
int64_t pad_token_id(const tokenizer::PretrainedTokenizer& tokenizer);

// Mean cross entropy of the shifted causal loss over a batch's targets:
// sum over every target of -log p(label) / num_targets, in fp32. logits [B, T, V].
at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels);
// The same sum of -log p(label) over the targets, undivided (HF's reduction
// "sum", for gradient accumulation's division by the step's target count).
at::Tensor causal_lm_loss_sum(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace finch::data
