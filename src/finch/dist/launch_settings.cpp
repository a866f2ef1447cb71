#include "finch/dist/launch_settings.h"

#include "finch/core/error.h"

namespace finch::dist {

void LaunchSettings::describe(config::Registry& registry) {
  auto s = registry.section("parallel", "Distributed training: ranks launched on this node and their restarts.");
  s.add("nproc_per_node", nproc_per_node,
        "ranks finch train starts on this node, each with torchrun's environment; 1 = train in this process")
      .alias("nproc-per-node")
      .alias("nproc_per_node");
  s.add("max_restarts", max_restarts,
        "after a rank fails, restart all ranks from the newest checkpoint at most this many times")
      .alias("max-restarts")
      .alias("max_restarts");
}

void LaunchSettings::validate() const {
  if (nproc_per_node < 1) fail("parallel.nproc_per_node: expected an integer >= 1, got {}", nproc_per_node);
  if (max_restarts < 0) fail("parallel.max_restarts: expected an integer >= 0, got {}", max_restarts);
}

}  // namespace finch::dist
