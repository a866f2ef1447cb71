// Section "parallel", the launcher's part: how many ranks `finch train`
// starts on this node (dist/launcher.h), and how often it restarts them.
// Flags --nproc-per-node and --max-restarts, as torchrun spells them.
#pragma once

#include <cstdint>

#include "finch/core/config.h"

namespace finch::dist {

struct LaunchSettings {
  int64_t nproc_per_node = 1;  // > 1: finch train launches this many ranks itself
  int64_t max_restarts = 3;    // restarts of all ranks after a failed one, then give up

  void describe(config::Registry& registry);
  void validate() const;  // one-line errors naming the key
};

}  // namespace finch::dist
