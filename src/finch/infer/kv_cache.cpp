#include "finch/infer/kv_cache.h"

#include "finch/core/error.h"

namespace finch::infer {

StaticKVCache::StaticKVCache(const model::DecoderConfig& c, int64_t batch, int64_t capacity,
                             const at::TensorOptions& options)
    : capacity_(capacity), lengths_(c.num_layers, 0) {
  for (int64_t i = 0; i < c.num_layers; ++i) {
    keys_.push_back(at::empty({batch, c.num_kv_heads, capacity, c.head_dim}, options));
    values_.push_back(at::empty({batch, c.num_kv_heads, capacity, c.head_dim}, options));
  }
}

std::pair<at::Tensor, at::Tensor> StaticKVCache::append(int64_t layer, const at::Tensor& k, const at::Tensor& v) {
  const int64_t start = lengths_.at(layer), end = start + k.size(2);
  FINCH_CHECK(end <= capacity_, "KV cache overflow: {} tokens, room for {}", end, capacity_);
  at::Tensor& keys = keys_[layer];
  at::Tensor& values = values_[layer];
  keys.slice(2, start, end).copy_(k);
  values.slice(2, start, end).copy_(v);
  lengths_[layer] = end;
  return {keys.slice(2, 0, end), values.slice(2, 0, end)};
}

void StaticKVCache::keep_rows(const at::Tensor& rows) {
  const at::Tensor index = rows.to(keys_.front().device());
  for (size_t i = 0; i < keys_.size(); ++i) {
    // Only the filled part is copied; the rest of the new buffer is written by later steps.
    const int64_t n = lengths_[i];
    at::Tensor keys = at::empty({index.size(0), keys_[i].size(1), capacity_, keys_[i].size(3)}, keys_[i].options());
    at::Tensor values = at::empty_like(keys);
    keys.slice(2, 0, n).copy_(keys_[i].slice(2, 0, n).index_select(0, index));
    values.slice(2, 0, n).copy_(values_[i].slice(2, 0, n).index_select(0, index));
    keys_[i] = std::move(keys);
    values_[i] = std::move(values);
  }
}

}  // namespace finch::infer
