#include "finch/dist/settings.h"

#include "finch/core/error.h"

namespace finch::dist {

void ParallelSettings::describe(config::Registry& registry) {
  auto s = registry.section("parallel", "How a run spreads over ranks: started by torchrun, srun or mpirun, or by "
                                        "finch train itself with nproc_per_node (docs/distributed.md).");
  s.add("strategy", strategy,
        "none (one process; ddp when launched with several ranks), ddp (data parallel) or fsdp (fully sharded)");
  s.add("nproc_per_node", nproc_per_node,
        "ranks finch train starts on this node, each with torchrun's environment; 1 = train in this process")
      .alias("nproc-per-node")
      .alias("nproc_per_node");
  s.add("max_restarts", max_restarts,
        "after a rank fails, restart all ranks from the newest checkpoint at most this many times")
      .alias("max-restarts")
      .alias("max_restarts");
  s.add("offload_params", offload_params,
        "fsdp: keep parameter shards and optimizer state in CPU memory, moved to the GPU per layer");
}

void ParallelSettings::validate() const {
  if (strategy != "none" && strategy != "ddp" && strategy != "fsdp")
    fail("parallel.strategy: expected none, ddp or fsdp, got '{}'", strategy);
  if (nproc_per_node < 1) fail("parallel.nproc_per_node: expected an integer >= 1, got {}", nproc_per_node);
  if (max_restarts < 0) fail("parallel.max_restarts: expected an integer >= 0, got {}", max_restarts);
  if (offload_params && strategy != "fsdp")
    fail("parallel.offload_params: only with parallel.strategy fsdp (got strategy '{}')", strategy);
}

}  // namespace finch::dist
