#include "finch/io/sharded_state.h"

#include <gtest/gtest.h>

#include "../test_util.h"
#include "finch/core/files.h"

namespace finch::io::sharded {
namespace {

namespace fs = std::filesystem;

// Saves `tensors` as `world` ranks would: each rank's chunk of the padded flat tensor.
void save_as(const fs::path& dir, int64_t world, const safetensors::NamedTensors& tensors) {
  Manifest m;
  m.world_size = world;
  m.weights_file = "model.safetensors";
  for (int64_t r = 0; r < world; ++r) {
    safetensors::NamedTensors chunks;
    for (const auto& [name, t] : tensors) {
      const int64_t c = chunk_numel(t.numel(), world);
      at::Tensor flat = at::zeros({c * world}, t.options());
      flat.narrow(0, 0, t.numel()).copy_(t.reshape(-1));
      chunks.emplace_back(name, flat.narrow(0, r * c, c).clone());
    }
    safetensors::save_file(dir / rank_file("weights", r), chunks, {{"step", "7"}});
  }
  for (const auto& [name, t] : tensors) m.tensors["weights"].emplace_back(name, t.sizes().vec());
  write_manifest(dir, m);
}

TEST(ShardedState, ChunksAreCeilOfTheShare) {
  EXPECT_EQ(chunk_numel(10, 4), 3);
  EXPECT_EQ(chunk_numel(8, 4), 2);
  EXPECT_EQ(chunk_numel(1, 4), 1);
  EXPECT_EQ(rank_file("optimizer", 3), "optimizer_shard_3.safetensors");
}

TEST(ShardedState, ReadsWholeTensorsAndRecutsChunksForAnyWorldSize) {
  test::TempDir dir;
  const at::Tensor a = at::arange(35, at::kFloat).view({5, 7}), b = at::arange(3, at::kFloat) + 100;
  save_as(dir.path(), 4, {{"a", a}, {"b", b}});
  ASSERT_TRUE(is_sharded(dir.path()));
  const Reader reader(dir.path());
  EXPECT_EQ(reader.manifest().world_size, 4);
  EXPECT_EQ(reader.names("weights"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(at::equal(reader.full("weights", "a"), a));
  EXPECT_TRUE(at::equal(reader.full("weights", "b"), b));
  EXPECT_EQ(reader.metadata("weights", "step"), "7");
  // Every world size's chunks, concatenated, are the padded flat tensor.
  for (int64_t world : {1, 2, 3, 4, 5, 8, 40}) {
    std::vector<at::Tensor> chunks;
    for (int64_t r = 0; r < world; ++r) chunks.push_back(reader.chunk("weights", "a", r, world));
    const at::Tensor flat = at::cat(chunks);
    ASSERT_EQ(flat.numel(), chunk_numel(35, world) * world) << world;
    EXPECT_TRUE(at::equal(flat.narrow(0, 0, 35), a.reshape(-1))) << world;
    EXPECT_EQ(flat.narrow(0, 35, flat.numel() - 35).abs().sum().item<float>(), 0.0f) << world;
  }
}

TEST(ShardedState, ConsolidateWritesOneFileAndLeavesTheShardsOut) {
  test::TempDir dir;
  const fs::path ckpt = dir / "checkpoint-2", out = dir / "plain";
  fs::create_directories(ckpt);
  save_as(ckpt, 3, {{"w", at::arange(10, at::kFloat)}});
  write_file_atomic(ckpt / "config.json", "{}");
  write_file_atomic(ckpt / "rng_state_0.safetensors", "x");
  consolidate(ckpt, out);
  EXPECT_TRUE(fs::exists(out / "model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "config.json"));
  EXPECT_FALSE(fs::exists(out / "weights_shard_0.safetensors"));
  EXPECT_FALSE(fs::exists(out / "rng_state_0.safetensors"));
  EXPECT_FALSE(fs::exists(out / kManifestFile));
  const auto store = safetensors::TensorStore::open_file(out / "model.safetensors");
  EXPECT_TRUE(at::equal(store.get("w"), at::arange(10, at::kFloat)));
}

TEST(ShardedState, FaultsAreOneLineErrorsNamingTheFile) {
  test::TempDir dir;
  write_file_atomic(dir / kManifestFile, "{\"format\": \"other\"}");
  test::expect_error([&] { Reader r(dir.path()); }, {"shards.json", "format"});
  write_file_atomic(dir / kManifestFile, "not json");
  test::expect_error([&] { Reader r(dir.path()); }, {"shards.json", "not readable JSON"});
  save_as(dir.path(), 2, {{"w", at::arange(4, at::kFloat)}});
  fs::remove(dir / rank_file("weights", 1));
  const Reader reader(dir.path());
  test::expect_error([&] { reader.full("weights", "w"); }, {"weights_shard_1.safetensors", "missing", "2 ranks"});
  test::expect_error([&] { reader.full("weights", "v"); }, {"shards.json", "no tensor v"});
}

}  // namespace
}  // namespace finch::io::sharded
