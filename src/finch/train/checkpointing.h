// Activation checkpointing per decoder layer (torch.utils.checkpoint,
// reentrant, preserve_rng_state=True): a layer's forward keeps only its
// input; backward runs it again with the random generators' states as they
// were (so dropout draws the same mask) and back-propagates through it.
// Gradients equal those of the plain forward.
#pragma once

#include <functional>

#include "finch/model/causal_lm.h"

namespace finch::train {

// Installs (on = true) or removes the checkpointing layer runner.
void set_activation_checkpointing(model::CausalLM& model, bool on);

// Called around one layer's backward: before its recompute, and after its
// gradients have accumulated (fully sharded runs gather the layer's
// parameters first, then reduce-scatter its gradients and free them).
struct RecomputeHooks {
  std::function<void()> before_recompute;
  std::function<void()> after_backward;
};

// One checkpointed call: fn(x) now without keeping its intermediates, recomputed in backward.
at::Tensor checkpoint(const model::CausalLMImpl::LayerFn& fn, const at::Tensor& x, RecomputeHooks hooks = {});

}  // namespace finch::train
