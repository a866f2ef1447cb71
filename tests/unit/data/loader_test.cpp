// Sampler and loader: determinism, the rank split, and resuming from a saved
// state. Parity of the order with torch's DistributedSampler is
// tests/parity/data_parity_test.cpp.
#include <ATen/ATen.h>

#include <algorithm>
#include <map>

#include "finch/data/loader.h"
#include "tiny_tokenizer.h"

namespace finch::data {
namespace {

using Longs = std::vector<int64_t>;

TEST(Sampler, DeterministicPerSeedAndEpoch) {
  SamplerOptions o;
  o.seed = 7;
  const Sampler a(20, o), b(20, o);
  EXPECT_EQ(a.epoch_indices(0), b.epoch_indices(0));
  EXPECT_EQ(a.epoch_indices(3), b.epoch_indices(3));
  EXPECT_NE(a.epoch_indices(0), a.epoch_indices(1));
  o.seed = 8;
  EXPECT_NE(Sampler(20, o).epoch_indices(0), a.epoch_indices(0));
  auto sorted = a.epoch_indices(2);
  std::sort(sorted.begin(), sorted.end());
  Longs all(20);
  for (int64_t i = 0; i < 20; ++i) all[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(sorted, all);
  o.shuffle = false;
  EXPECT_EQ(Sampler(20, o).epoch_indices(5), all);
}

TEST(Sampler, RanksCoverEverySampleEachEpoch) {
  for (int64_t n : {12, 13, 7}) {
    for (bool drop_last : {false, true}) {
      const int64_t world = 4;
      std::map<int64_t, int> seen;
      int64_t batches = -1;
      for (int64_t rank = 0; rank < world; ++rank) {
        SamplerOptions o;
        o.batch_size = 2;
        o.rank = rank;
        o.world_size = world;
        o.drop_last = drop_last;
        const Sampler s(n, o);
        if (batches >= 0) {
          EXPECT_EQ(s.batches_per_epoch(), batches) << "ranks must agree on the step count";
        }
        batches = s.batches_per_epoch();
        for (const auto& batch : s.epoch_batches(1)) {
          EXPECT_LE(static_cast<int64_t>(batch.size()), 2);
          for (int64_t i : batch) ++seen[i];
        }
      }
      int64_t total = 0;
      for (auto [i, count] : seen) total += count;
      SCOPED_TRACE(::testing::Message() << "n " << n << " drop_last " << drop_last);
      if (n % world == 0) {
        EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
        for (auto [i, count] : seen) EXPECT_EQ(count, 1) << "sample " << i;
      } else if (!drop_last) {  // padded: all seen, a few twice
        EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
        EXPECT_EQ(total, (n + world - 1) / world * world);
      } else {  // dropped: the tail of the permutation is skipped
        EXPECT_EQ(total, n / world * world);
        for (auto [i, count] : seen) EXPECT_EQ(count, 1) << "sample " << i;
      }
    }
  }
  SamplerOptions o;
  o.world_size = 4;
  o.drop_last = true;
  test::expect_error([&] { Sampler(3, o); }, {"3 samples cannot be split across 4 ranks"});
}

struct LoaderTest : ::testing::Test {
  test::TempDir dir;
  std::shared_ptr<const SampleSet> samples;
  void SetUp() override {
    test::write_tiny_tokenizer(dir / "tok");
    std::vector<std::pair<std::string, std::string>> rows;
    const char* words[] = {"a", "b", "c", "ab", "abc"};
    for (int i = 0; i < 11; ++i) rows.push_back({words[i % 5], std::string(words[(i * 3) % 5]) + " " + words[i % 3]});
    test::write_rows(dir / "training.jsonl", rows);
    const auto tok = tokenizer::PretrainedTokenizer::from_dir(dir / "tok");
    auto split = std::make_shared<const TokenizedSplit>(
        TokenizedSplit::load(dir / "training.jsonl", tok, tokenizer_fingerprint(dir / "tok")));
    samples = std::make_shared<const SampleSet>(split, SampleOptions{});
  }
};

TEST_F(LoaderTest, ResumedLoaderYieldsTheSameBatches) {
  for (bool packing : {true, false}) {
    SamplerOptions o;
    o.batch_size = 3;
    o.seed = 5;
    o.rank = 1;
    o.world_size = 2;
    Loader reference(samples, o, {packing, 7});
    ASSERT_EQ(reference.sampler().batches_per_epoch(), 2);  // 11 samples, 6 per rank, 3 per batch
    std::vector<Batch> batches;
    std::vector<LoaderState> states;
    for (int step = 0; step < 7; ++step) {  // three epochs and a half
      states.push_back(reference.state());
      batches.push_back(reference.next());
    }
    EXPECT_EQ(reference.state(), (LoaderState{3, 1}));
    for (std::size_t from : {1u, 2u, 5u}) {
      Loader resumed(samples, o, {packing, 7});
      resumed.restore(LoaderState::from_json(nlohmann::json::parse(states[from].to_json().dump())));
      for (std::size_t step = from; step < batches.size(); ++step) {
        const Batch b = resumed.next();
        EXPECT_TRUE(at::equal(b.input_ids, batches[step].input_ids)) << "from " << from << " step " << step;
        EXPECT_TRUE(at::equal(b.labels, batches[step].labels)) << "from " << from << " step " << step;
        EXPECT_TRUE(at::equal(b.position_ids, batches[step].position_ids));
        EXPECT_EQ(b.num_targets, batches[step].num_targets);
      }
      EXPECT_EQ(resumed.state(), reference.state());
    }
    // Epochs are different permutations.
    EXPECT_FALSE(at::equal(batches[0].input_ids, batches[2].input_ids) &&
                 at::equal(batches[1].input_ids, batches[3].input_ids));
  }
}

TEST_F(LoaderTest, BadStatesAreErrors) {
  Loader loader(samples, SamplerOptions{}, {});
  test::expect_error([&] { loader.restore({0, 11}); }, {"position 11 is past the 11 batches of an epoch"});
  test::expect_error([&] { LoaderState::from_json({{"epoch", 1}}); }, {"'position' must be a non-negative integer"});
  test::expect_error([&] { LoaderState::from_json({{"epoch", -1}, {"position", 0}}); }, {"'epoch'"});
}

}  // namespace
}  // namespace finch::data
