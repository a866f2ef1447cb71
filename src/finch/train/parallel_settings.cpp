#include "finch/train/parallel_settings.h"

#include "finch/core/error.h"

namespace finch::train {

void ParallelSettings::describe(config::Registry& registry) {
  auto s = registry.section("parallel", "How training spreads over GPUs and nodes (see docs/train.md).");
  s.add("strategy", strategy,
        "none (one process), ddp (data parallel: gradients all-reduced) or fsdp (fully sharded: parameters, "
        "gradients and optimizer state split across ranks)");
  s.add("nproc_per_node", nproc_per_node, "ranks (one per GPU) started on each node");
  s.add("max_restarts", max_restarts, "times every rank is restarted from the newest checkpoint after one fails");
  s.add("offload_params", offload_params, "fsdp only: keep parameter shards and optimizer state in CPU memory");
}

void ParallelSettings::validate() const {
  if (strategy != "none" && strategy != "ddp" && strategy != "fsdp")
    fail("parallel.strategy: expected none, ddp or fsdp, got '{}'", strategy);
  if (nproc_per_node < 1) fail("parallel.nproc_per_node: expected an integer >= 1, got {}", nproc_per_node);
  if (max_restarts < 0) fail("parallel.max_restarts: expected an integer >= 0, got {}", max_restarts);
  if (offload_params && strategy != "fsdp")
    fail("parallel.offload_params: needs parallel.strategy fsdp, got '{}'", strategy);
}

}  // namespace finch::train
