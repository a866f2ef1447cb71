// Faster linear layers for decoding on the CPU: every weight is reordered
// once into oneDNN's blocked layout and multiplied by oneDNN's matmul (the
// `mkldnn::_linear_pointwise` kernel libtorch ships, which PyTorch's own
// compiler uses for CPU inference), instead of at::linear's BLAS call. On
// the 2-core AMD test machine this is 3x faster for SmolLM2's 49k-row output
// projection at 16 rows and 1.25x for the decoder layers' projections.
// Results equal at::linear's up to summation order (~1e-6 relative).
#pragma once

#include "finch/model/causal_lm.h"

namespace finch::infer {

// Sets a packed kernel on every Linear of `model` (and on a tied output
// projection) when the model is fp32 on the CPU and libtorch has oneDNN;
// otherwise leaves it as it is. The packed copies hold the weights as they
// are now: the model must not be trained or merged afterwards. Idempotent.
// With `release_originals`, each packed Linear's own weight is replaced by
// an empty tensor (the memory returns only if the model owns its weights:
// model::LoadOptions::copy_weights); the model then only serves decoding.
// Returns whether the model now decodes with packed kernels.
bool pack_linear_weights(model::CausalLMImpl& model, bool release_originals = false);

}  // namespace finch::infer
