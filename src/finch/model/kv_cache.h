// The hook incremental decoding needs from the model: each attention layer
// hands its new keys and values to a cache and attends over everything the
// cache holds. The cache itself (storage, growth, dropping finished rows)
// belongs to infer/; the model only calls it.
#pragma once

#include <ATen/ATen.h>

#include <utility>

namespace finch::model {

class KVCache {
 public:
  virtual ~KVCache() = default;
  // k, v: this step's [B, K, T, D] for decoder layer `layer`, rotary applied.
  // Returns every key and value held for that layer, these included: [B, K, S, D].
  virtual std::pair<at::Tensor, at::Tensor> append(int64_t layer, const at::Tensor& k, const at::Tensor& v) = 0;
};

}  // namespace finch::model
