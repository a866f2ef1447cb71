#include "finch/dist/fully_sharded.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/variable.h>

#include <algorithm>

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

FullySharded::FullySharded(std::shared_ptr<const World> world, std::vector<Named> units, bool offload)
    : world_(std::move(world)), device_(world_->device()), offload_(offload) {
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
      // On the world's device (or in CPU memory, offloaded; pinned where a GPU computes, so the
      // copies to and from it overlap compute), wherever the parameter was loaded.
      const at::Device home = offload_ ? at::Device(at::kCPU) : device_;
      p.shard = flat.narrow(0, rank * p.chunk, p.chunk).to(home, flat.scalar_type(), false, /*copy=*/true);
      if (offload_ && device_.is_cuda()) p.shard = p.shard.pin_memory();
      if (p.trainable) p.shard.requires_grad_(true);
      unit.params.push_back(std::move(p));
    }
    for (size_t i = 0; i < unit.params.size(); ++i) {
      const auto dtype = unit.params[i].shard.scalar_type();
      auto group = std::find_if(unit.groups.begin(), unit.groups.end(),
                                [&](const auto& g) { return unit.params[g[0]].shard.scalar_type() == dtype; });
      if (group == unit.groups.end())
        unit.groups.push_back({i});
      else
        group->push_back(i);
    }
    unit.gathered = true;  // the parameters hold the full values until released below
    units_.push_back(std::move(unit));
  }
  release_all();
}

void FullySharded::prefetch(size_t index) {
  Unit& unit = units_[index];
  if (unit.gathered || unit.pending) return;
  at::NoGradGuard no_grad;
  const int64_t n = world_->size();
  auto pending = std::make_unique<Pending>();
  for (const auto& group : unit.groups) {
    std::vector<at::Tensor> shards;
    for (const size_t i : group) shards.push_back(unit.params[i].shard.detach());
    at::Tensor mine = at::cat(shards);
    if (offload_) mine = mine.to(device_, /*non_blocking=*/true);
    if (!world_->backend()) {
      pending->buffers.push_back(mine.unsqueeze(0));
      continue;
    }
    // Row r of the buffer receives rank r's flat shards.
    at::Tensor buffer = at::empty({n, mine.numel()}, mine.options());
    std::vector<std::vector<at::Tensor>> outputs(1);
    for (int64_t r = 0; r < n; ++r) outputs[0].push_back(buffer[r]);
    std::vector<at::Tensor> inputs{mine};
    try {
      pending->works.push_back(world_->backend()->allgather(outputs, inputs));
    } catch (const std::exception& e) {
      fail("rank {} of {}: all-gather of {} failed: {}", world_->rank(), n, unit.params[group[0]].name,
           first_line(e.what()));
    }
    pending->inputs.push_back(mine);
    pending->buffers.push_back(std::move(buffer));
  }
  unit.pending = std::move(pending);
}

void FullySharded::gather(size_t index) {
  Unit& unit = units_[index];
  if (unit.gathered) return;
  prefetch(index);
  at::NoGradGuard no_grad;
  const auto pending = std::move(unit.pending);
  for (const auto& work : pending->works) wait(*world_, work, "all-gather");
  for (size_t g = 0; g < unit.groups.size(); ++g) {
    const at::Tensor& buffer = pending->buffers[g];
    int64_t offset = 0;
    for (const size_t i : unit.groups[g]) {
      Param& p = unit.params[i];
      // Column block [offset, offset + chunk) holds every rank's chunk of p: rank-major is p's padded flat order.
      const at::Tensor flat = buffer.narrow(1, offset, p.chunk).reshape({-1});
      p.param.set_data(flat.narrow(0, 0, p.numel).view(p.shape));
      offset += p.chunk;
    }
  }
  unit.gathered = true;
}

void FullySharded::release(size_t index) {
  Unit& unit = units_[index];
  if (!unit.gathered) return;
  // The parameter objects stay (modules and optimizer names refer to them); only their storage goes.
  for (Param& p : unit.params) p.param.set_data(at::empty({0}, p.param.options().device(device_).requires_grad(false)));
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
  Unit& unit = units_[index];
  for (const auto& group : unit.groups) {
    // The trainable parameters the backward reached: the same on every rank (the same graph).
    std::vector<Param*> params;
    for (const size_t i : group)
      if (unit.params[i].trainable && unit.params[i].param.grad().defined()) params.push_back(&unit.params[i]);
    if (params.empty()) continue;
    // [ranks, chunks]: row r is rank r's chunk of every gradient, so row `rank` of the sum is this rank's part.
    std::vector<at::Tensor> columns;
    for (Param* p : params) {
      const at::Tensor grad = p->param.grad();
      at::Tensor padded = at::zeros({p->chunk * n}, grad.options());
      padded.narrow(0, 0, p->numel).copy_(grad.reshape(-1));
      columns.push_back(padded.view({n, p->chunk}));
    }
    at::Tensor all = at::cat(columns, 1);
    at::Tensor mine;
    if (!world_->backend()) {
      mine = all[0];
    } else if (world_->backend_name() == "nccl") {
      mine = at::empty({all.size(1)}, all.options());
      c10::intrusive_ptr<c10d::Work> work;
      try {
        work = world_->backend()->_reduce_scatter_base(mine, all);
      } catch (const std::exception& e) {
        fail("rank {} of {}: reduce-scatter of {} failed: {}", rank, n, params[0]->name, first_line(e.what()));
      }
      wait(*world_, work, "reduce-scatter");
    } else {
      world_->all_reduce(all);
      mine = all[rank];
    }
    int64_t offset = 0;
    for (Param* p : params) {
      const at::Tensor part = mine.narrow(0, offset, p->chunk).to(p->shard.device());
      offset += p->chunk;
      at::Tensor& shard_grad = p->shard.mutable_grad();
      if (shard_grad.defined())
        shard_grad.add_(part);
      else
        shard_grad = part.clone();
      p->param.mutable_grad().reset();
    }
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
