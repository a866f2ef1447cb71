#include "finch/dist/data_parallel.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include "finch/core/error.h"

namespace finch::dist {

namespace {

class Hook : public torch::autograd::PostAccumulateGradHook {
 public:
  explicit Hook(std::function<void()> fn) : fn_(std::move(fn)) {}
  void operator()(const torch::autograd::Variable&) override { fn_(); }

 private:
  std::function<void()> fn_;
};

}  // namespace

GradientSync::GradientSync(std::shared_ptr<const World> world,
                           std::vector<std::pair<std::string, at::Tensor>> parameters, int64_t bucket_bytes)
    : world_(std::move(world)), params_(std::move(parameters)) {
  FINCH_CHECK(!params_.empty(), "data parallel without trainable parameters");
  bucket_of_.resize(params_.size());
  seen_.assign(params_.size(), false);
  // Reverse model order; a new bucket when the size is reached or the dtype changes.
  for (size_t k = params_.size(); k-- > 0;) {
    const at::Tensor& p = params_[k].second;
    FINCH_CHECK(p.requires_grad(), "{} does not require grad", params_[k].first);
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    if (buckets_.empty() || buckets_.back().numel * static_cast<int64_t>(p.element_size()) + bytes > bucket_bytes ||
        buckets_.back().flat.scalar_type() != p.scalar_type()) {
      buckets_.emplace_back();
      buckets_.back().flat = at::empty({0}, p.options().requires_grad(false));
    }
    Bucket& b = buckets_.back();
    // A bucket may exceed bucket_bytes only by holding a single large parameter.
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
    bucket_of_[k] = buckets_.size() - 1;
  }
  for (Bucket& b : buckets_) b.flat = at::zeros({b.numel}, b.flat.options());
  for (size_t k = 0; k < params_.size(); ++k)
    torch::autograd::impl::set_post_acc_grad_hooks(params_[k].second,
                                                    std::make_unique<Hook>([this, k] { on_gradient(k); }));
}

GradientSync::~GradientSync() {
  for (auto& [name, p] : params_) torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
}

std::vector<std::vector<size_t>> GradientSync::bucket_layout() const {
  std::vector<std::vector<size_t>> layout;
  for (const Bucket& b : buckets_) layout.push_back(b.params);
  return layout;
}

void GradientSync::arm() {
  std::lock_guard<std::mutex> lock(mutex_);
  FINCH_CHECK(!armed_, "GradientSync::arm() twice without finish()");
  armed_ = true;
  next_ = 0;
  std::fill(seen_.begin(), seen_.end(), false);
  for (Bucket& b : buckets_) {
    b.pending = b.params.size();
    b.work.reset();
  }
}

void GradientSync::on_gradient(size_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_) return;  // a micro-batch before the last: gradients only accumulate
  // Once per backward: a second accumulation would come after its bucket left.
  FINCH_CHECK(!seen_[index], "{}: its gradient was accumulated twice in one backward; data parallel needs once",
              params_[index].first);
  seen_[index] = true;
  Bucket& b = buckets_[bucket_of_[index]];
  if (--b.pending == 0) launch_ready();
}

void GradientSync::launch_ready() {
  while (next_ < buckets_.size() && buckets_[next_].pending == 0) launch(buckets_[next_++]);
}

void GradientSync::launch(Bucket& b) {
  for (size_t i = 0; i < b.params.size(); ++i) {
    const at::Tensor& p = params_[b.params[i]].second;
    at::Tensor slice = b.flat.narrow(0, b.offsets[i], p.numel());
    if (p.grad().defined())
      slice.copy_(p.grad().reshape({-1}));
    else
      slice.zero_();
  }
  b.work = world_->all_reduce_async(b.flat);
}

void GradientSync::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  FINCH_CHECK(armed_, "GradientSync::finish() without arm()");
  // Buckets some parameter of which got no gradient in this backward.
  for (Bucket& b : buckets_) b.pending = 0;
  launch_ready();
  armed_ = false;
  lock.unlock();
  for (Bucket& b : buckets_) {
    if (b.work) {
      try {
        b.work->wait();
      } catch (const std::exception& e) {
        const std::string what = e.what();
        fail("rank {} of {}: gradient all-reduce failed (a peer stopped or timed out): {}", world_->rank(),
             world_->size(), what.substr(0, what.find('\n')));
      }
    }
    for (size_t i = 0; i < b.params.size(); ++i) {
      at::Tensor p = params_[b.params[i]].second;
      const at::Tensor sum = b.flat.narrow(0, b.offsets[i], p.numel()).view(p.sizes());
      if (p.grad().defined())
        p.mutable_grad().copy_(sum);
      else
        p.mutable_grad() = sum.clone();
    }
    b.work.reset();
  }
}

void broadcast_from_main(const World& world, const std::vector<at::Tensor>& tensors) {
  if (!world.distributed()) return;
  at::NoGradGuard no_grad;
  for (const at::Tensor& t : tensors) {
    at::Tensor buffer = t.detach().contiguous();
    world.broadcast(buffer, 0);
    if (buffer.data_ptr() != t.data_ptr()) t.detach().copy_(buffer);
  }
}

}  // namespace finch::dist
