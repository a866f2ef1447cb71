#include "finch/train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "finch/core/error.h"

namespace finch::train {

// Each branch is transformers.optimization's lambda, operation for operation
// (same int-to-double conversions, same order), so the multipliers are equal
// to the last bit.
double Schedule::multiplier(int64_t step) const {
  if (type != "constant" && type != "linear" && type != "cosine")
    fail("lr_scheduler_type '{}': expected constant, linear or cosine", type);
  if (step < warmup_steps) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
  if (type == "constant") return 1.0;
  const double span = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
  if (type == "linear") return std::max(0.0, static_cast<double>(total_steps - step) / span);
  const double progress = static_cast<double>(step - warmup_steps) / span;
  const double num_cycles = 0.5;
  return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * num_cycles * 2.0 * progress)));
}

}  // namespace finch::train
