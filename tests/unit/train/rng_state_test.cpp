#include "finch/train/rng_state.h"

#include <ATen/ATen.h>

#include "../test_util.h"
#include "finch/io/safetensors.h"

namespace finch::train {
namespace {

TEST(RngState, RoundTripRepeatsTheDraws) {
  test::TempDir dir;
  at::manual_seed(1234);
  safetensors::save_file(dir / "rng_state.safetensors", rng_state());
  const at::Tensor first = at::rand({16});
  const at::Tensor first_normal = at::randn({4, 4});
  at::rand({1000});  // move the generator on
  load_rng_state(dir / "rng_state.safetensors");
  EXPECT_TRUE(at::equal(at::rand({16}), first));
  EXPECT_TRUE(at::equal(at::randn({4, 4}), first_normal));
}

TEST(RngState, WithoutTheCpuGeneratorIsAnError) {
  test::TempDir dir;
  safetensors::save_file(dir / "rng.safetensors", {{"other", at::zeros({4}, at::kByte)}});
  test::expect_error([&] { load_rng_state(dir / "rng.safetensors"); }, {"rng.safetensors", "\"cpu\""});
}

}  // namespace
}  // namespace finch::train
