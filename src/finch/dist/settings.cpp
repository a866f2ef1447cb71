#include "finch/dist/settings.h"

#include "finch/core/error.h"

namespace finch::dist {

void ParallelSettings::describe(config::Registry& registry) {
  auto s = registry.section("parallel", "How a run spreads over ranks started by torchrun, srun or mpirun "
                                        "(docs/distributed.md).");
  s.add("strategy", strategy,
        "none (one process; ddp when launched with several ranks), ddp (data parallel) or fsdp (fully sharded)");
}

void ParallelSettings::validate() const {
  if (strategy != "none" && strategy != "ddp" && strategy != "fsdp")
    fail("parallel.strategy: expected none, ddp or fsdp, got '{}'", strategy);
}

}  // namespace finch::dist
