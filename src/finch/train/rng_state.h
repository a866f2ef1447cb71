// Saving and restoring torch's random number generators with a checkpoint.
#pragma once

#include <filesystem>

namespace finch::train {

// The random number generators' states (torch's default CPU generator and,
// where CUDA is available, every CUDA device's) to and from a safetensors file.
// Loading requires the CPU state; GPU states the file lacks are left as they are.
void save_rng_state(const std::filesystem::path& file);
void load_rng_state(const std::filesystem::path& file);

}  // namespace finch::train
