// Keys and values of every decoder layer for a batch of rows, in buffers
// allocated once for the whole generation (no concatenation per step).
// Rows that finish leave the batch with keep_rows.
//
// B rows, K key/value heads, S tokens held (padding included), D head dim.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "finch/model/decoder_config.h"
#include "finch/model/kv_cache.h"

namespace finch::infer {

class StaticKVCache final : public model::KVCache {
 public:
  // Room for `capacity` tokens per row.
  StaticKVCache(const model::DecoderConfig& config, int64_t batch, int64_t capacity, const at::TensorOptions& options);

  std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k, const at::Tensor& v) override;

  int64_t length() const { return lengths_.front(); }  // S, after a whole forward pass
  int64_t capacity() const { return capacity_; }
  int64_t batch() const { return keys_.front().size(0); }

  // Keeps only `rows` (long indices into the current batch), in that order.
  void keep_rows(const at::Tensor& rows);

 private:
  int64_t capacity_;
  std::vector<at::Tensor> keys_, values_;  // per layer: [B, K, capacity, D]
  std::vector<int64_t> lengths_;           // per layer: S
};

}  // namespace finch::infer
