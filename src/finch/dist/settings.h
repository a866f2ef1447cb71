// How a run spreads over its ranks (section "parallel").
//
// strategy none: one process, or, when a launcher started several ranks, data
// parallel (ddp), the only strategy that needs no choice (as accelerate and
// HF Trainer do under torchrun). ddp: data parallel; with one rank it is a
// plain single-process run. fsdp: fully sharded (not in this build yet).
#pragma once

#include <string>

#include "finch/core/config.h"

namespace finch::dist {

struct ParallelSettings {
  std::string strategy = "none";  // none | ddp | fsdp

  void describe(config::Registry& registry);
  void validate() const;
};

}  // namespace finch::dist
