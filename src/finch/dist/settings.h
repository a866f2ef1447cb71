// How a run spreads over its ranks (section "parallel").
//
// strategy none: one process, or, when a launcher started several ranks, data
// parallel (ddp), the only strategy that needs no choice (as accelerate and
// HF Trainer do under torchrun). ddp: data parallel; with one rank it is a
// plain single-process run. fsdp: fully sharded (not in this build yet).
// nproc_per_node > 1: `finch train` is itself the launcher (dist/launcher.h)
// and restarts all ranks at most max_restarts times after a failed one.
#pragma once

#include <cstdint>
#include <string>

#include "finch/core/config.h"

namespace finch::dist {

struct ParallelSettings {
  std::string strategy = "none";  // none | ddp | fsdp
  int64_t nproc_per_node = 1;     // > 1: finch train launches this many ranks itself
  int64_t max_restarts = 3;       // restarts of all ranks after a failed one, then give up
  bool offload_params = false;    // fsdp: parameter shards and optimizer state in CPU memory

  void describe(config::Registry& registry);
  void validate() const;  // one-line errors naming the key
};

}  // namespace finch::dist
