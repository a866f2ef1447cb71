// A causal LM fully sharded across the ranks of a World (parallel.strategy
// fsdp): one unit per decoder layer and a root unit (embeddings, final norm,
// lm_head), see dist/fully_sharded.h. The layer runner gathers a layer before
// its forward (and starts gathering the next one) and frees it after; its
// backward (activation checkpointing recomputes the layer) gathers it again
// (and starts on the layer below), then reduce-scatters the layer's
// gradients into the shards and frees it. The trainer gathers the root for a
// whole step (FSDP keeps the root unit unsharded between forward and backward).
#pragma once

#include <memory>

#include "finch/dist/fully_sharded.h"
#include "finch/model/causal_lm.h"

namespace finch::train {

// Shards `model`'s parameters (every rank holds the same full values now) and
// installs the gathering, checkpointing layer runner. Unit i < layers is
// model.layers.i; the last unit is the root.
// `offload`: the shards in CPU memory (parallel.offload_params).
std::shared_ptr<dist::FullySharded> shard_model(model::CausalLM& model, std::shared_ptr<const dist::World> world,
                                                bool offload = false);

}  // namespace finch::train
