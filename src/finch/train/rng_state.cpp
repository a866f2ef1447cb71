#include "finch/train/rng_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include <mutex>
#include <sstream>

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

void save_rng_states(const dist::World& world, const fs::path& dir) {
  const auto mine = rng_state();
  if (!world.distributed()) {
    safetensors::save_file(dir / "rng_state.safetensors", mine);
    return;
  }
  // Through the store, not a collective: the states are CPU bytes whatever the
  // backend (NCCL takes only CUDA tensors). Each rank's names, then each state.
  const auto& store = world.store();
  const std::string prefix = fmt::format("finch/rng_state/{}/", world.rank());
  std::string names;
  for (const auto& [name, state] : mine) {
    names += (names.empty() ? "" : ",") + name;
    const auto* bytes = state.data_ptr<uint8_t>();
    store->set(prefix + name, std::vector<uint8_t>(bytes, bytes + state.numel()));
  }
  store->set(prefix + "names", std::vector<uint8_t>(names.begin(), names.end()));
  if (world.is_main()) {
    for (int64_t r = 0; r < world.size(); ++r) {
      const std::string from = fmt::format("finch/rng_state/{}/", r);
      const auto list = store->get(from + "names");
      safetensors::NamedTensors states;
      std::string name;
      std::istringstream in(std::string(list.begin(), list.end()));
      while (std::getline(in, name, ',')) {
        auto bytes = store->get(from + name);
        states.emplace_back(name, at::tensor(at::ArrayRef<uint8_t>(bytes), at::kByte));
        store->deleteKey(from + name);
      }
      store->deleteKey(from + "names");
      safetensors::save_file(dir / fmt::format("rng_state_{}.safetensors", r), states);
    }
  }
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
