// Data parallel (PyTorch DDP's reducer, without the module wrapper): every
// rank holds the whole model, back-propagates its own slice of the global
// batch, and the gradients are summed across ranks before the update.
//
// The trainable parameters are cut into buckets of about bucket_bytes (25 MB,
// DDP's bucket_cap_mb), in reverse model order: backward produces the last
// layers' gradients first. A hook after each parameter's gradient
// accumulation (AccumulateGrad's post hook, as DDP uses) counts down its
// bucket; a bucket whose gradients are all final is copied into one flat
// buffer and all-reduced asynchronously while backward goes on with earlier
// layers. Buckets start in index order on every rank (a ready bucket waits
// for the ones before it), so the ranks' collectives always match.
// finish() waits and writes the sums back into .grad.
//
// Only the parameters given travel: with LoRA, the adapters'. Sums, not
// means: the trainer divides each rank's loss by the target count of the
// whole global batch, so the sum is the single-process gradient.
//
// With gradient accumulation, arm() only before the last micro-batch's
// backward (DDP's no_sync for the others): the hooks then see the
// accumulated gradient, and one all-reduce per step carries it.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "finch/dist/world.h"

namespace finch::dist {

class GradientSync {
 public:
  static constexpr int64_t kDefaultBucketBytes = 25 << 20;

  // `parameters`: (name, tensor) of the trainable parameters in model order;
  // they get a post-accumulate-grad hook each (removed by the destructor).
  GradientSync(std::shared_ptr<const World> world, std::vector<std::pair<std::string, at::Tensor>> parameters,
               int64_t bucket_bytes = kDefaultBucketBytes);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // The next backward's gradients are final: all-reduce them as they come.
  void arm();
  // After that backward: starts the buckets no gradient reached (a parameter
  // without a gradient counts as zeros), waits for all, and leaves every
  // parameter's .grad the sum over ranks.
  void finish();

  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // The parameter indices of each bucket, in launch order (for tests).
  std::vector<std::vector<size_t>> bucket_layout() const;

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    int64_t numel = 0;
    at::Tensor flat;
    size_t pending = 0;
    c10::intrusive_ptr<c10d::Work> work;
  };
  void on_gradient(size_t index);
  void launch_ready();
  void launch(Bucket& bucket);

  std::shared_ptr<const World> world_;
  std::vector<std::pair<std::string, at::Tensor>> params_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> seen_;
  std::vector<Bucket> buckets_;
  size_t next_ = 0;  // the first bucket not started
  bool armed_ = false;
  std::mutex mutex_;
};

// Copies rank 0's values into every rank's tensors (the same start everywhere).
void broadcast_from_main(const World& world, const std::vector<at::Tensor>& tensors);

}  // namespace finch::dist
