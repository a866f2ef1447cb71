// The ranks of a run and the collectives between them, over libtorch's c10d.
//
// Start-up: every rank meets at a c10d::TCPStore on MASTER_ADDR:MASTER_PORT
// (rank 0 hosts it; under torchrun its agent does, and every rank is a
// client), then joins one process group: NCCL when the run's tensors are on
// a GPU and finch was compiled with CUDA, else Gloo (CPU tensors; CUDA
// tensors too, slower). Store keys live under "finch/attempt_{restart}/" so
// a restarted attempt never reads the keys of the one before.
//
// Timeouts: the rendezvous waits rendezvous_timeout for every rank to join,
// a collective collective_timeout for its peers; then the run fails with a
// one-line error instead of hanging. FINCH_DIST_TIMEOUT (seconds) overrides both.
//
// One process (world size 1) has no store and no group: every collective
// returns at once with its input as the result, so callers need no branch.
// Every rank must call the collectives in the same order (see STYLE.md 12).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <memory>
#include <vector>

#include "finch/dist/env.h"

namespace finch::dist {

struct WorldOptions {
  std::chrono::milliseconds rendezvous_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds collective_timeout{std::chrono::minutes(30)};  // torch's default for Gloo
};

class World {
 public:
  // One process: rank 0 of 1.
  World() = default;
  // Joins the run `env` describes (one process when env.world_size is 1).
  // `device`: where the tensors given to the collectives live.
  static std::shared_ptr<World> init(const LaunchEnv& env, at::Device device, WorldOptions options = {});
  // From this process's environment (launch_env()).
  static std::shared_ptr<World> from_environment(at::Device device);

  int64_t rank() const { return env_.rank; }
  int64_t size() const { return env_.world_size; }
  int64_t local_rank() const { return env_.local_rank; }
  bool is_main() const { return env_.rank == 0; }
  bool distributed() const { return env_.world_size > 1; }
  const LaunchEnv& env() const { return env_; }
  at::Device device() const { return device_; }
  // "gloo", "nccl", or "none" for one process.
  const std::string& backend_name() const { return backend_name_; }

  // In place, blocking. SUM unless said.
  void all_reduce(at::Tensor& tensor, c10d::ReduceOp op = c10d::ReduceOp::SUM) const;
  // Started, not waited for: the caller waits on the returned work (null for one process).
  c10::intrusive_ptr<c10d::Work> all_reduce_async(at::Tensor& tensor) const;
  // Sums of plain numbers across ranks (tensors on device()), in one collective.
  std::vector<double> sum(const std::vector<double>& values) const;
  void broadcast(at::Tensor& tensor, int64_t root = 0) const;
  // Returns when every rank has called it.
  void barrier() const;

  // The process group itself, for strategies that need more collectives
  // (all-gather, reduce-scatter); null for one process.
  const c10::intrusive_ptr<c10d::Backend>& backend() const { return backend_; }
  const c10::intrusive_ptr<c10d::Store>& store() const { return store_; }

 private:
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) const;

  LaunchEnv env_;
  at::Device device_{at::kCPU};
  std::string backend_name_ = "none";
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> backend_;
};

}  // namespace finch::dist
