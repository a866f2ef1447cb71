// Learning-rate schedules with HF's semantics (transformers.optimization):
// the multiplier of the base rate for optimizer step `step` (0-based: the
// first update uses step 0, so with warm-up it is 0).
//   constant: min(1, step / warmup) during warm-up, then 1
//   linear:   warm-up, then max(0, (total - step) / (total - warmup))
//   cosine:   warm-up, then max(0, 0.5 (1 + cos(pi * progress))), progress = (step - warmup) / (total - warmup)
#pragma once

#include <cstdint>
#include <string>

namespace finch::train {

struct Schedule {
  std::string type = "cosine";
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double multiplier(int64_t step) const;
};

}  // namespace finch::train
