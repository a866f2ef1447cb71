// Checkpoint directories that are whole or absent.
//
// A checkpoint is written into a temporary sibling folder (".tmp-<name>-<pid>"),
// every file flushed to disk, then MANIFEST.json (every file's size and sha256)
// written and flushed last, then the folder renamed to its name and the
// parent flushed. A folder without a valid manifest, or whose files differ
// from it, is not a checkpoint: resume skips it (and says why).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace finch::io {

// Writes checkpoint `final_dir`: `write` fills the temporary folder it is
// given; then manifest, flush and rename as above. An existing `final_dir`
// is replaced only after the new one is complete (moved aside, then removed).
void write_checkpoint_dir(const std::filesystem::path& final_dir,
                          const std::function<void(const std::filesystem::path& tmp)>& write);

// Checks `dir` against its MANIFEST.json; returns an empty string when whole,
// else why not (one line naming the file).
std::string verify_checkpoint_dir(const std::filesystem::path& dir);

// The complete checkpoint-<step> folders of `output_dir` (verified), oldest
// step first. Leftover temporary folders are removed.
struct CheckpointEntry {
  int64_t step;
  std::filesystem::path dir;
};
std::vector<CheckpointEntry> list_checkpoints(const std::filesystem::path& output_dir);
// The newest complete checkpoint, verifying from the newest down (so a resume
// hashes one checkpoint, not all). The run's writer removes leftover
// temporary folders on the way (`remove_leftovers`); a reader (finch test,
// finch export) must not, since a live trainer may be writing one.
std::optional<CheckpointEntry> newest_checkpoint(const std::filesystem::path& output_dir,
                                                 bool remove_leftovers = true);

// The run folder finch train uses for a model by default: results/{model_id}
// for a Hub id, results/{folder name} for a local model folder.
std::filesystem::path default_run_dir(const std::string& model_id);

// Deletes the oldest checkpoints beyond `limit` (> 0), never `keep_best` nor the newest.
void rotate_checkpoints(const std::filesystem::path& output_dir, int64_t limit,
                        const std::optional<std::filesystem::path>& keep_best);

}  // namespace finch::io
