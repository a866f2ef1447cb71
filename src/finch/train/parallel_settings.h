// How a training run spreads over devices: section "parallel". These are the
// keys only; issue 7's dist/ gives them their behaviour (data parallel,
// fully sharded, the single-node launcher and its restarts). Until it lands,
// `finch train` refuses fsdp with a one-line error, and the --dry-run
// estimate (train/estimate.h) already shards by nproc_per_node under fsdp.
#pragma once

#include <cstdint>
#include <string>

#include "finch/core/config.h"

namespace finch::train {

struct ParallelSettings {
  std::string strategy = "none";  // none | ddp (data parallel) | fsdp (fully sharded, the seed's FULL_SHARD)
  int64_t nproc_per_node = 1;     // ranks (GPUs) per node
  int64_t max_restarts = 3;       // times the launcher restarts every rank after one fails
  bool offload_params = false;    // fsdp: keep parameter shards and optimizer state in CPU memory

  void describe(config::Registry& registry);
  void validate() const;  // one-line errors naming the key
};

}  // namespace finch::train
