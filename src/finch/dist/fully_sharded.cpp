#include "finch/dist/fully_sharded.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/variable.h>

#include "finch/core/error.h"

namespace finch::dist {

namespace {

std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

void wait(const World& world, const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    fail("rank {} of {}: {} failed (a peer stopped or timed out): {}", world.rank(), world.size(), what,
         first_line(e.what()));
  }
}

}  // namespace

FullySharded::FullySharded(std::shared_ptr<const World> world, std::vector<Named> units) : world_(std::move(world)) {
  at::NoGradGuard no_grad;
  const int64_t n = world_->size(), rank = world_->rank();
  for (auto& named : units) {
    Unit unit;
    for (auto& [name, param] : named) {
      Param p;
      p.name = name;
      p.param = param;
      p.shape = param.sizes().vec();
      p.numel = param.numel();
      p.chunk = (p.numel + n - 1) / n;
      p.trainable = param.requires_grad();
      at::Tensor flat = at::zeros({p.chunk * n}, param.options().requires_grad(false));
      flat.narrow(0, 0, p.numel).copy_(param.detach().reshape(-1));
      p.shard = flat.narrow(0, rank * p.chunk, p.chunk).clone();
      if (p.trainable) p.shard.requires_grad_(true);
      unit.params.push_back(std::move(p));
    }
    unit.gathered = true;  // the parameters hold the full values until released below
    units_.push_back(std::move(unit));
  }
  release_all();
}

at::Tensor FullySharded::all_gather_flat(const Param& p, const at::Tensor& shard) const {
  const int64_t n = world_->size();
  at::Tensor flat = at::empty({p.chunk * n}, shard.options().requires_grad(false));
  if (!world_->backend()) return flat.copy_(shard.detach());
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int64_t r = 0; r < n; ++r) outputs[0].push_back(flat.narrow(0, r * p.chunk, p.chunk));
  std::vector<at::Tensor> inputs{shard.detach().contiguous()};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = world_->backend()->allgather(outputs, inputs);
  } catch (const std::exception& e) {
    fail("rank {} of {}: all-gather of {} failed: {}", world_->rank(), n, p.name, first_line(e.what()));
  }
  wait(*world_, work, "all-gather");
  return flat;
}

void FullySharded::gather(size_t index) {
  Unit& unit = units_[index];
  if (unit.gathered) return;
  at::NoGradGuard no_grad;
  for (Param& p : unit.params)
    p.param.set_data(all_gather_flat(p, p.shard).narrow(0, 0, p.numel).view(p.shape));
  unit.gathered = true;
}

void FullySharded::release(size_t index) {
  Unit& unit = units_[index];
  if (!unit.gathered) return;
  // The parameter objects stay (modules and optimizer names refer to them); only their storage goes.
  for (Param& p : unit.params) p.param.set_data(at::empty({0}, p.param.options().requires_grad(false)));
  unit.gathered = false;
}

void FullySharded::gather_all() {
  for (size_t u = 0; u < units_.size(); ++u) gather(u);
}

void FullySharded::release_all() {
  for (size_t u = 0; u < units_.size(); ++u) release(u);
}

void FullySharded::reduce_gradients(size_t index) {
  at::NoGradGuard no_grad;
  const int64_t n = world_->size(), rank = world_->rank();
  for (Param& p : units_[index].params) {
    if (!p.trainable) continue;
    const at::Tensor grad = p.param.grad();
    // The same on every rank: the same graph reached (or missed) this parameter.
    if (!grad.defined()) continue;
    at::Tensor flat = at::zeros({p.chunk * n}, grad.options());
    flat.narrow(0, 0, p.numel).copy_(grad.reshape(-1));
    at::Tensor mine;
    if (!world_->backend()) {
      mine = flat;
    } else if (world_->backend_name() == "nccl") {
      mine = at::empty({p.chunk}, grad.options());
      c10::intrusive_ptr<c10d::Work> work;
      try {
        work = world_->backend()->_reduce_scatter_base(mine, flat);
      } catch (const std::exception& e) {
        fail("rank {} of {}: reduce-scatter of {} failed: {}", rank, n, p.name, first_line(e.what()));
      }
      wait(*world_, work, "reduce-scatter");
    } else {
      world_->all_reduce(flat);
      mine = flat.narrow(0, rank * p.chunk, p.chunk);
    }
    at::Tensor& shard_grad = p.shard.mutable_grad();
    if (shard_grad.defined())
      shard_grad.add_(mine);
    else
      shard_grad = mine.clone();
    p.param.mutable_grad().reset();
  }
}

void FullySharded::reshard_all() {
  at::NoGradGuard no_grad;
  const int64_t n = world_->size(), rank = world_->rank();
  for (Unit& unit : units_) {
    FINCH_CHECK(unit.gathered, "reshard_all() with a unit not gathered");
    for (Param& p : unit.params) {
      at::Tensor flat = at::zeros({p.chunk * n}, p.shard.options().requires_grad(false));
      flat.narrow(0, 0, p.numel).copy_(p.param.detach().reshape(-1));
      p.shard.detach().copy_(flat.narrow(0, rank * p.chunk, p.chunk));
    }
  }
}

FullySharded::Named FullySharded::trainable_shards() const {
  Named out;
  for (const Unit& unit : units_)
    for (const Param& p : unit.params)
      if (p.trainable) out.emplace_back(p.name, p.shard);
  return out;
}

const FullySharded::Param& FullySharded::find(const std::string& name) const {
  for (const Unit& unit : units_)
    for (const Param& p : unit.params)
      if (p.name == name) return p;
  fail("fully sharded: no parameter named {}", name);
}

at::Tensor FullySharded::gather_full(const std::string& name, const at::Tensor& shard) const {
  const Param& p = find(name);
  return all_gather_flat(p, shard).narrow(0, 0, p.numel).view(p.shape);
}

at::Tensor FullySharded::own_chunk(const std::string& name, const at::Tensor& full) const {
  const Param& p = find(name);
  const int64_t n = world_->size();
  at::Tensor flat = at::zeros({p.chunk * n}, full.options());
  flat.narrow(0, 0, p.numel).copy_(full.reshape(-1));
  return flat.narrow(0, world_->rank() * p.chunk, p.chunk).clone();
}

int64_t FullySharded::shard_bytes() const {
  int64_t bytes = 0;
  for (const Unit& unit : units_)
    for (const Param& p : unit.params)
      bytes += static_cast<int64_t>(p.shard.nbytes() + p.param.nbytes());
  return bytes;
}

}  // namespace finch::dist
