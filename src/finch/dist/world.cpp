#include "finch/dist/world.h"

// ProcessGroupGloo.hpp declares its class only when this is defined (as
// libtorch's own build does); the headers of Debian's libgloo-dev match the
// Gloo that libtorch links in.
#define USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(FINCH_CUDA) && __has_include(<nccl.h>)
// libtorch_cuda holds ProcessGroupNCCL; only its declaration needs the define.
#define USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define FINCH_NCCL 1
#endif

#include <ATen/ATen.h>

#include <cstdlib>

#include "finch/core/error.h"

namespace finch::dist {

namespace {

// c10d's messages span lines (with a C++ stack trace): keep the first.
std::string first_line(const std::string& message) { return message.substr(0, message.find('\n')); }

bool is_loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0; }

std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnv& env) {
  // GLOO_SOCKET_IFNAME picks the interface, as in PyTorch; a run on one
  // machine through 127.0.0.1 stays on the loopback device.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (is_loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

}  // namespace

std::shared_ptr<World> World::from_environment(at::Device device) { return init(launch_env(), device); }

std::shared_ptr<World> World::init(const LaunchEnv& env, at::Device device, WorldOptions options) {
  auto world = std::make_shared<World>();
  world->env_ = env;
  world->device_ = device;
  if (!env.distributed()) return world;
  if (const char* t = std::getenv("FINCH_DIST_TIMEOUT"); t && *t) {
    char* end = nullptr;
    const double seconds = std::strtod(t, &end);
    if (end == t || *end != '\0' || !(seconds > 0)) fail("FINCH_DIST_TIMEOUT={}: expected seconds > 0", t);
    options.rendezvous_timeout = options.collective_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  const std::string where = fmt::format("{}:{}", env.master_addr, env.master_port);
  try {
    c10d::TCPStoreOptions store;
    store.port = static_cast<uint16_t>(env.master_port);
    store.isServer = env.rank == 0 && !env.agent_store;
    store.numWorkers = static_cast<size_t>(env.world_size);
    store.waitWorkers = !env.agent_store;
    store.timeout = options.rendezvous_timeout;
    store.multiTenant = true;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store);
    world->store_ = c10::make_intrusive<c10d::PrefixStore>(fmt::format("finch/attempt_{}", env.restart_count), tcp);
  } catch (const std::exception& e) {
    fail("rank {} of {} ({}): rendezvous at {} failed within {} s: {}{}", env.rank, env.world_size, env.launcher,
         where, options.rendezvous_timeout.count() / 1000, first_line(e.what()),
         env.launcher == "slurm" ? " (under Slurm, start every rank with srun)" : "");
  }
  try {
#if defined(FINCH_NCCL)
    if (device.is_cuda()) {
      auto nccl = c10d::ProcessGroupNCCL::Options::create();
      nccl->timeout = options.collective_timeout;
      world->backend_ = c10::make_intrusive<c10d::ProcessGroupNCCL>(world->store_, static_cast<int>(env.rank),
                                                                    static_cast<int>(env.world_size), nccl);
      world->backend_name_ = "nccl";
    }
#endif
    if (!world->backend_) {
      auto gloo = c10d::ProcessGroupGloo::Options::create(options.collective_timeout);
      gloo->devices.push_back(gloo_device(env));
      world->backend_ = c10::make_intrusive<c10d::ProcessGroupGloo>(world->store_, static_cast<int>(env.rank),
                                                                    static_cast<int>(env.world_size), gloo);
      world->backend_name_ = "gloo";
    }
  } catch (const std::exception& e) {
    fail("rank {} of {}: the process group through {} did not start: {}", env.rank, env.world_size, where,
         first_line(e.what()));
  }
  // A first collective: every rank is connected before any work starts.
  world->barrier();
  return world;
}

void World::wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) const {
  try {
    work->wait();
  } catch (const std::exception& e) {
    fail("rank {} of {}: {} failed (a peer stopped or timed out): {}", rank(), size(), what, first_line(e.what()));
  }
}

c10::intrusive_ptr<c10d::Work> World::all_reduce_async(at::Tensor& tensor) const {
  if (!backend_) return {};
  std::vector<at::Tensor> tensors{tensor};
  try {
    return backend_->allreduce(tensors);
  } catch (const std::exception& e) {
    fail("rank {} of {}: all-reduce failed: {}", rank(), size(), first_line(e.what()));
  }
}

void World::all_reduce(at::Tensor& tensor, c10d::ReduceOp op) const {
  if (!backend_) return;
  std::vector<at::Tensor> tensors{tensor};
  c10d::AllreduceOptions opts;
  opts.reduceOp = op;
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = backend_->allreduce(tensors, opts);
  } catch (const std::exception& e) {
    fail("rank {} of {}: all-reduce failed: {}", rank(), size(), first_line(e.what()));
  }
  wait(work, "all-reduce");
}

std::vector<double> World::sum(const std::vector<double>& values) const {
  if (!backend_) return values;
  at::Tensor t = at::tensor(values, at::TensorOptions(at::kDouble)).to(device_);
  all_reduce(t);
  t = t.cpu();
  return {t.data_ptr<double>(), t.data_ptr<double>() + t.numel()};
}

void World::broadcast(at::Tensor& tensor, int64_t root) const {
  if (!backend_) return;
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions opts;
  opts.rootRank = root;
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = backend_->broadcast(tensors, opts);
  } catch (const std::exception& e) {
    fail("rank {} of {}: broadcast failed: {}", rank(), size(), first_line(e.what()));
  }
  wait(work, "broadcast");
}

void World::barrier() const {
  if (!backend_) return;
  // An all-reduce of one number: the same on Gloo and NCCL (NCCL's barrier
  // guesses a device per rank).
  at::Tensor one = at::ones({1}, at::TensorOptions(at::kFloat).device(device_));
  all_reduce(one);
}

}  // namespace finch::dist
