#include "finch/train/rng_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include <mutex>

#include "finch/core/error.h"
#include "finch/io/safetensors.h"

namespace finch::train {
namespace {

namespace fs = std::filesystem;

// torch's default generators by name: "cpu", and "cuda:<i>" for each visible CUDA device.
std::vector<std::pair<std::string, at::Generator>> generators() {
  std::vector<std::pair<std::string, at::Generator>> gens{{"cpu", at::detail::getDefaultCPUGenerator()}};
  if (torch::cuda::is_available())
    for (c10::DeviceIndex i = 0; i < static_cast<c10::DeviceIndex>(torch::cuda::device_count()); ++i)
      gens.emplace_back(fmt::format("cuda:{}", i), at::globalContext().defaultGenerator(at::Device(at::kCUDA, i)));
  return gens;
}

}  // namespace

safetensors::NamedTensors rng_state() {
  safetensors::NamedTensors states;
  for (auto& [name, gen] : generators()) {
    std::scoped_lock lock(gen.mutex());
    states.emplace_back(name, gen.get_state());
  }
  return states;
}

void save_rng_state(const dist::World& world, const fs::path& dir) {
  const std::string name =
      world.distributed() ? fmt::format("rng_state_{}.safetensors", world.rank()) : "rng_state.safetensors";
  safetensors::save_file(dir / name, rng_state());
}

fs::path rng_state_file(const dist::World& world, const fs::path& checkpoint) {
  if (world.distributed())
    if (auto own = checkpoint / fmt::format("rng_state_{}.safetensors", world.rank()); fs::exists(own)) return own;
  if (auto shared = checkpoint / "rng_state.safetensors"; fs::exists(shared)) return shared;
  return {};
}

void load_rng_state(const fs::path& file) {
  auto store = safetensors::TensorStore::open_file(file);
  if (!store.contains("cpu")) fail("{}: no random state \"cpu\"", file.string());
  for (auto& [name, gen] : generators()) {
    // A GPU state is missing when the checkpoint was saved on the CPU or on fewer GPUs: those start fresh.
    if (!store.contains(name)) continue;
    const at::Tensor state = store.get(name).clone();  // owned, not a view of the mapped file
    std::scoped_lock lock(gen.mutex());
    gen.set_state(state);
  }
}

}  // namespace finch::train
