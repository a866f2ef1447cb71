// GradientSync between two ranks in one process (two threads, Gloo over
// 127.0.0.1): after backward every rank holds the sum of the ranks'
// gradients, whatever the bucket size; buckets run in reverse model order;
// gradient accumulation before arm() is carried; a parameter without a
// gradient counts as zeros. The end-to-end check against a single process
// (loss and weights, LoRA and full fine-tuning) is tests/dist/.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <thread>

#include "finch/dist/data_parallel.h"
#include "../test_util.h"
#include "ranks.h"

namespace finch::dist {
namespace {

using test_ranks::free_port;
using test_ranks::rank_env;
using test_ranks::run_ranks;

// Parameters of a two-layer net; rank r's input is seeded by r.
struct Net {
  std::vector<std::pair<std::string, at::Tensor>> params;
  explicit Net() {
    // Its own generator: the ranks' threads build their nets at the same time.
    at::Generator g = at::make_generator<at::CPUGeneratorImpl>(0);
    params = {{"a.weight", at::randn({8, 5}, g)}, {"a.bias", at::randn({8}, g)}, {"b.weight", at::randn({3, 8}, g)},
              {"unused", at::randn({4}, g)}};
    for (auto& [n, p] : params) p.requires_grad_(true);
  }
  at::Tensor loss(int64_t rank, int64_t micro) const {
    at::Tensor x = at::arange(10 * 5, at::kFloat).reshape({10, 5}).sin() * static_cast<double>(rank + 1) +
                   static_cast<double>(micro);
    const at::Tensor h = at::tanh(at::linear(x, params[0].second, params[1].second));
    return at::linear(h, params[2].second).pow(2).sum();
  }
};

// The reference: the gradients summed over ranks (and micro-batches), computed in one process.
std::vector<at::Tensor> reference(int64_t size, int64_t micro_batches) {
  Net net;
  for (int64_t r = 0; r < size; ++r)
    for (int64_t m = 0; m < micro_batches; ++m) net.loss(r, m).backward();
  std::vector<at::Tensor> grads;
  for (auto& [n, p] : net.params) grads.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
  return grads;
}

void check_sync(int64_t size, int64_t bucket_bytes, int64_t micro_batches) {
  const auto expected = reference(size, micro_batches);
  run_ranks(size, [&](std::shared_ptr<World> world) {
    Net net;
    GradientSync sync(world, net.params, bucket_bytes);
    for (int step = 0; step < 2; ++step) {  // twice: the hooks re-arm
      for (auto& [n, p] : net.params) p.mutable_grad() = at::Tensor();
      for (int64_t m = 0; m < micro_batches; ++m) {
        if (m + 1 == micro_batches) sync.arm();
        net.loss(world->rank(), m).backward();
      }
      sync.finish();
      for (size_t i = 0; i < net.params.size(); ++i) {
        const at::Tensor& g = net.params[i].second.grad();
        ASSERT_TRUE(g.defined()) << net.params[i].first;
        EXPECT_TRUE(at::allclose(g, expected[i], 1e-6, 1e-5)) << net.params[i].first << " on rank " << world->rank();
      }
    }
  });
}

TEST(GradientSync, SumsAcrossTwoRanksOneBucket) { check_sync(2, GradientSync::kDefaultBucketBytes, 1); }
TEST(GradientSync, SumsAcrossThreeRanksSmallBuckets) { check_sync(3, 64, 1); }
TEST(GradientSync, CarriesAccumulatedGradients) { check_sync(2, 100, 3); }

TEST(GradientSync, BucketsInReverseModelOrder) {
  run_ranks(1, [](std::shared_ptr<World> world) {
    Net net;
    // 4-byte floats: unused 16 B, b.weight 96 B, a.bias 32 B, a.weight 160 B.
    GradientSync sync(world, net.params, 128);
    EXPECT_EQ(sync.bucket_layout(), (std::vector<std::vector<size_t>>{{3, 2}, {1}, {0}}));
  });
}

TEST(World, OneProcessCollectivesReturnTheInput) {
  World world;
  EXPECT_FALSE(world.distributed());
  at::Tensor t = at::ones({3});
  world.all_reduce(t);
  world.broadcast(t);
  world.barrier();
  EXPECT_TRUE(at::equal(t, at::ones({3})));
  EXPECT_EQ(world.sum({1.5, 2.0}), (std::vector<double>{1.5, 2.0}));
}

TEST(World, CollectivesAcrossRanks) {
  run_ranks(2, [](std::shared_ptr<World> world) {
    EXPECT_EQ(world->backend_name(), "gloo");
    EXPECT_EQ(world->sum({static_cast<double>(world->rank()), 1.0}), (std::vector<double>{1.0, 2.0}));
    at::Tensor t = at::full({2}, static_cast<double>(world->rank() + 5));
    world->broadcast(t, 1);
    EXPECT_TRUE(at::equal(t, at::full({2}, 6.0)));
    at::Tensor m = at::full({1}, static_cast<double>(world->rank()));
    world->all_reduce(m, c10d::ReduceOp::MAX);
    EXPECT_EQ(m.item<double>(), 1.0);
  });
}

TEST(World, MissingPeerIsAnErrorNotAHang) {
  WorldOptions o;
  o.rendezvous_timeout = o.collective_timeout = std::chrono::milliseconds(1500);
  const auto start = std::chrono::steady_clock::now();
  finch::test::expect_error([&] { World::init(rank_env(0, 2, free_port()), at::kCPU, o); },
                            {"rank 0 of 2", "rendezvous at 127.0.0.1:", "failed within"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
}  // namespace finch::dist
