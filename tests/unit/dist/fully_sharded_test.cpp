// FullySharded between three ranks in one process (threads, Gloo over
// 127.0.0.1); three so that most parameters need padding: the shards cut from
// the full values gather back to them exactly; release leaves empty tensors in
// the same parameter objects; reduce_gradients leaves each shard's grad the
// own chunk of the sum of the ranks' full gradients (added to what is there)
// and drops the full gradient; a prefetched unit gathers to the same values;
// frozen
// parameters get no trainable shard. The end-to-end check against a single
// process (losses, weights, bytes per rank, resume at another world size) is
// tests/dist/test_fsdp.py.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>
#include <thread>

#include "finch/dist/fully_sharded.h"
#include "../test_util.h"
#include "ranks.h"

namespace finch::dist {
namespace {

using test_ranks::run_ranks;

// The same values on every rank: two units, sizes that 3 does not divide.
std::vector<FullySharded::Named> make_units() {
  // Its own generator: the ranks are threads, and the global one is shared.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto leaf = [&](std::vector<int64_t> shape, bool train) {
    return at::randn(shape, gen).requires_grad_(train);
  };
  // b.weight is frozen and of another dtype (as a LoRA run's base weights beside fp32 adapters): its
  // unit travels as two flat buffers.
  return {{{"a.weight", leaf({4, 5}, true)}, {"a.bias", leaf({5}, true)}},
          {{"b.weight", leaf({2, 2}, false).to(at::kDouble)}, {"b.scale", leaf({7}, true)}}};
}

TEST(FullySharded, GatherReleaseAndReduce) {
  constexpr int64_t kRanks = 3;
  std::mutex mutex;
  std::vector<std::string> failures;
  run_ranks(kRanks, [&](std::shared_ptr<World> world) {
    auto note = [&](bool ok, const std::string& what) {
      if (ok) return;
      std::lock_guard<std::mutex> lock(mutex);
      failures.push_back("rank " + std::to_string(world->rank()) + ": " + what);
    };
    auto units = make_units();
    std::vector<at::Tensor> full, params;
    for (const auto& u : units)
      for (const auto& [name, p] : u) {
        full.push_back(p.detach().clone());
        params.push_back(p);
      }
    FullySharded sharded(world, units);
    for (const auto& p : params) note(p.numel() == 0, "a released parameter holds no values");
    note(sharded.trainable_shards().size() == 3, "frozen b.weight has no trainable shard");
    note(sharded.trainable_shards()[0].second.numel() == 7, "a.weight: 20 elements padded to 21, 7 per rank");

    sharded.gather_all();
    for (size_t i = 0; i < params.size(); ++i) note(params[i].equal(full[i]), "gathered values equal the full ones");

    // Each rank back-propagates its own gradient: (rank + 1) * the parameter.
    for (const auto& p : params)
      if (p.requires_grad()) p.mutable_grad() = p.detach() * static_cast<double>(world->rank() + 1);
    sharded.reduce_gradients(0);
    sharded.reduce_gradients(1);
    const double sum = kRanks * (kRanks + 1) / 2.0;  // 1 + 2 + 3
    for (const auto& p : params) note(!p.grad().defined(), "the full gradient is dropped");
    for (const auto& [name, shard] : sharded.trainable_shards()) {
      const at::Tensor index = name == "a.weight" ? full[0] : name == "a.bias" ? full[1] : full[3];
      const at::Tensor chunk = sharded.own_chunk(name, index * sum);
      note(at::allclose(shard.grad(), chunk, 1e-6, 1e-6), name + ": shard grad = own chunk of the summed gradient");
    }
    // A second backward (gradient accumulation) adds to the shard's grad.
    params[1].mutable_grad() = params[1].detach() * static_cast<double>(world->rank() + 1);
    sharded.reduce_gradients(0);
    const auto bias = sharded.trainable_shards()[1];
    note(at::allclose(bias.second.grad(), sharded.own_chunk("a.bias", full[1] * (2 * sum)), 1e-6, 1e-6),
         "a.bias: the second reduction adds to the shard grad");
    sharded.release_all();
    // Prefetch starts the all-gather; gather waits for it and gives the full values.
    sharded.prefetch(1);
    note(!sharded.gathered(1) && params[2].numel() == 0, "a prefetched unit is not gathered before gather()");
    sharded.gather(1);
    note(params[2].equal(full[2]) && params[3].equal(full[3]), "a prefetched unit gathers to the full values");
    sharded.release_all();
    note(params[0].numel() == 0, "released again");
  });
  for (const auto& f : failures) ADD_FAILURE() << f;
}

}  // namespace
}  // namespace finch::dist
