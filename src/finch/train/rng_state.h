// Saving and restoring torch's random number generators with a checkpoint.
#pragma once

#include <filesystem>

#include "finch/dist/world.h"
#include "finch/io/safetensors.h"

namespace finch::train {

// The random number generators' states (torch's default CPU generator and,
// where CUDA is available, every CUDA device's) to and from a safetensors file.
// Loading requires the CPU state; GPU states the file lacks are left as they are.
safetensors::NamedTensors rng_state();
void load_rng_state(const std::filesystem::path& file);

// This rank's states into dir, as HF Trainer keeps them: one process writes
// rng_state.safetensors; each rank of several writes rng_state_{rank}.safetensors.
void save_rng_state(const dist::World& world, const std::filesystem::path& dir);
// This rank's file in a checkpoint: rng_state_{rank}, else rng_state (resumed
// at another world size, as HF falls back); empty when the checkpoint has neither.
std::filesystem::path rng_state_file(const dist::World& world, const std::filesystem::path& checkpoint);

}  // namespace finch::train
