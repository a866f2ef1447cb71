// Which samples each data-parallel rank trains on, in which order, and a
// loader whose position a checkpoint saves and restores.
//
// Order: per epoch a permutation of the sample indices, torch.randperm(n)
// with a CPU generator seeded with seed + epoch (exactly what Python's
//   g = torch.Generator(); g.manual_seed(seed + epoch); torch.randperm(n, generator=g)
// gives), then split across ranks as torch's DistributedSampler does:
//   drop_last = false (the default): the permutation is padded with its own
//     first indices up to a multiple of world_size, so every sample is seen
//     at least once per epoch and at most (world_size - n % world_size)
//     samples twice;
//   drop_last = true: its tail is cut to a multiple of world_size (up to
//     world_size - 1 samples are skipped that epoch).
// Rank r takes positions r, r + world_size, ...; its indices are grouped in
// order into batches of batch_size, the last one possibly smaller. Every rank
// has the same number of batches.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "finch/data/batches.h"
#include "finch/data/samples.h"

namespace finch::data {

struct SamplerOptions {
  int64_t batch_size = 1;  // per device
  bool shuffle = true;     // false: 0..n-1 every epoch
  uint64_t seed = 42;
  int64_t rank = 0, world_size = 1;
  bool drop_last = false;
};

class Sampler {
 public:
  Sampler(int64_t num_samples, const SamplerOptions& options);
  // This rank's sample indices for `epoch`, in training order.
  std::vector<int64_t> epoch_indices(int64_t epoch) const;
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch) const;
  int64_t samples_per_rank() const { return per_rank_; }
  int64_t batches_per_epoch() const { return (per_rank_ + options_.batch_size - 1) / options_.batch_size; }

 private:
  int64_t n_;
  SamplerOptions options_;
  int64_t per_rank_;
};

// Where a loader is: the next batch it yields is batch `position` of `epoch`.
struct LoaderState {
  int64_t epoch = 0;
  int64_t position = 0;
  nlohmann::json to_json() const { return {{"epoch", epoch}, {"position", position}}; }
  static LoaderState from_json(const nlohmann::json& j);  // error naming the bad key
  bool operator==(const LoaderState&) const = default;
};

// Batches of a sample set for one rank, epoch after epoch without end.
class Loader {
 public:
  Loader(std::shared_ptr<const SampleSet> samples, const SamplerOptions& sampler, const CollateOptions& collate);

  Batch next();
  LoaderState state() const { return state_; }
  // Continues from `state` (as saved by state()): the batches that follow are
  // those the uninterrupted loader would have yielded.
  void restore(const LoaderState& state);
  const Sampler& sampler() const { return sampler_; }
  // The sample indices of the batch next() yields next.
  const std::vector<int64_t>& next_indices();

 private:
  std::shared_ptr<const SampleSet> samples_;
  Sampler sampler_;
  CollateOptions collate_;
  LoaderState state_;
  int64_t batches_epoch_ = -1;  // the epoch batches_ holds
  std::vector<std::vector<int64_t>> batches_;
};

}  // namespace finch::data
