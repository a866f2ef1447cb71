// `finch forward`: token ids in, logits and next-token loss out. The probe
// every parity check goes through.
#pragma once

#include <ATen/ATen.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "finch/model/causal_lm.h"

namespace finch::model {

struct ProbeRow {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;  // same length; all ones when the line has none
  std::vector<int64_t> position_ids;    // empty: 0..T-1
};

// One JSON object a line: {"input_ids": [...], "attention_mask"?: [...], "position_ids"?: [...]}.
std::vector<ProbeRow> read_probe_rows(const std::filesystem::path& path, int64_t vocab_size);

struct ProbeResult {
  std::vector<at::Tensor> logits;  // per row, fp32 [T_i, V] on the CPU
  double nll_sum = 0;              // over counted predictions
  int64_t tokens = 0;              // predictions whose input and target are both unmasked
  double seconds = 0;              // forward time, weights already loaded
  int64_t input_tokens = 0;        // tokens fed through the model (excluding batch padding)
  // NaN (printed as null) when no prediction counts.
  double loss() const { return tokens > 0 ? nll_sum / static_cast<double>(tokens) : std::nan(""); }
};

// Runs rows in batches of `batch_size` (right-padded within a batch).
ProbeResult run_probe(CausalLM& model, const std::vector<ProbeRow>& rows, int64_t batch_size, at::Device device,
                      bool keep_logits = true);

}  // namespace finch::model
