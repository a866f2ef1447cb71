// Checkpoints written by every rank together.
//
// Rank 0 makes the checkpoint's temporary folder (io::write_checkpoint_dir)
// and names it to the other ranks through the world's store; every rank
// writes its own files into it at once (`every_rank`: its random state, and
// in a fully sharded run its chunks of the weights and optimizer state);
// once all are in, rank 0 writes the rest (`main_only`), then the manifest
// and the rename, so the checkpoint is whole or absent as one process's is.
// Every rank returns when the checkpoint is complete. Collective: every rank
// calls it, in the same order. Several nodes need the output folder on a
// shared file system (as PyTorch's sharded checkpoints do).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>

#include "finch/dist/world.h"

namespace finch::dist {

// `serial` tells one save's store key from another's (a count of saves).
void write_checkpoint_together(const World& world, const std::filesystem::path& dir, int64_t serial,
                               const std::function<void(const std::filesystem::path& tmp)>& every_rank,
                               const std::function<void(const std::filesystem::path& tmp)>& main_only);

}  // namespace finch::dist
