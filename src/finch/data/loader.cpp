#include "finch/data/loader.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "finch/core/error.h"

namespace finch::data {

Sampler::Sampler(int64_t num_samples, const SamplerOptions& options) : n_(num_samples), options_(options) {
  if (options_.batch_size < 1) fail("batch size must be at least 1, got {}", options_.batch_size);
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size)
    fail("rank {} is outside a world of size {}", options_.rank, options_.world_size);
  // DistributedSampler's num_samples: floor with drop_last (when it binds), ceil otherwise.
  per_rank_ = options_.drop_last ? n_ / options_.world_size : (n_ + options_.world_size - 1) / options_.world_size;
  if (per_rank_ == 0) fail("{} samples cannot be split across {} ranks", n_, options_.world_size);
}

std::vector<int64_t> Sampler::epoch_indices(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<std::size_t>(n_));
  if (options_.shuffle) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options_.seed + static_cast<uint64_t>(epoch));
    const at::Tensor perm = at::randperm(n_, generator, at::TensorOptions().dtype(at::kLong));
    std::copy(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + n_, order.begin());
  } else {
    for (int64_t i = 0; i < n_; ++i) order[static_cast<std::size_t>(i)] = i;
  }
  const int64_t total = per_rank_ * options_.world_size;
  // Padding repeats the permutation from its start, as many times as needed.
  for (int64_t i = n_; i < total; ++i) order.push_back(order[static_cast<std::size_t>(i % n_)]);
  std::vector<int64_t> mine;
  mine.reserve(static_cast<std::size_t>(per_rank_));
  for (int64_t i = options_.rank; i < total; i += options_.world_size) mine.push_back(order[static_cast<std::size_t>(i)]);
  return mine;
}

std::vector<std::vector<int64_t>> Sampler::epoch_batches(int64_t epoch) const {
  const std::vector<int64_t> mine = epoch_indices(epoch);
  std::vector<std::vector<int64_t>> batches;
  for (std::size_t i = 0; i < mine.size(); i += static_cast<std::size_t>(options_.batch_size)) {
    const std::size_t end = std::min(mine.size(), i + static_cast<std::size_t>(options_.batch_size));
    batches.emplace_back(mine.begin() + static_cast<std::ptrdiff_t>(i), mine.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return batches;
}

LoaderState LoaderState::from_json(const nlohmann::json& j) {
  LoaderState s;
  for (auto [key, field] : {std::pair{"epoch", &s.epoch}, std::pair{"position", &s.position}}) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer() || j[key].get<int64_t>() < 0)
      fail("data loader state: '{}' must be a non-negative integer, got {}", key,
           j.is_object() && j.contains(key) ? j[key].dump() : "nothing");
    *field = j[key].get<int64_t>();
  }
  return s;
}

Loader::Loader(std::shared_ptr<const SampleSet> samples, const SamplerOptions& sampler, const CollateOptions& collate)
    : samples_(std::move(samples)), sampler_(static_cast<int64_t>(samples_->size()), sampler), collate_(collate) {}

void Loader::restore(const LoaderState& state) {
  if (state.position >= sampler_.batches_per_epoch())
    fail("data loader state: position {} is past the {} batches of an epoch (another dataset or batch size?)",
         state.position, sampler_.batches_per_epoch());
  state_ = state;
}

const std::vector<int64_t>& Loader::next_indices() {
  if (batches_epoch_ != state_.epoch) {
    batches_ = sampler_.epoch_batches(state_.epoch);
    batches_epoch_ = state_.epoch;
  }
  return batches_[static_cast<std::size_t>(state_.position)];
}

Batch Loader::next() {
  std::vector<Sample> samples;
  for (int64_t i : next_indices()) samples.push_back(samples_->get(static_cast<std::size_t>(i)));
  if (++state_.position == sampler_.batches_per_epoch()) state_ = {state_.epoch + 1, 0};
  return collate(samples, collate_);
}

}  // namespace finch::data
