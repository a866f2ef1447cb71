// Checkpoint directories that are whole or absent (checkpoint_dir.h).
//
// Rotation follows transformers 5.23's trainer_utils.rotate_checkpoints:
// oldest step first, the newest and the best always kept, never fewer left
// than the limit. (transformers orders by mtime and falls back to the step
// when mtimes are within a second; the step is the same order for one run.)
#include "finch/io/checkpoint_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>


#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/io/digest.h"

namespace fs = std::filesystem;

namespace finch::io {
namespace {

constexpr const char* kManifest = "MANIFEST.json";
constexpr const char* kTempPrefix = ".tmp-";

std::string errno_text() { return std::strerror(errno); }

void fsync_path(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) fail("{}: cannot open to flush: {}", path.string(), errno_text());
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail("{}: fsync failed: {}", path.string(), errno_text());
}

// Every file and folder below `dir` reaches the disk, then `dir` itself.
void fsync_tree(const fs::path& dir) {
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() || entry.is_directory()) fsync_path(entry.path(), entry.is_directory());
  fsync_path(dir, true);
}


// {"files": {"relative/path": {"size": N, "sha256": "..."}}} for every regular file but the manifest.
nlohmann::json make_manifest(const fs::path& dir) {
  nlohmann::json files = nlohmann::json::object();
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().lexically_relative(dir).generic_string();
    if (name == kManifest) continue;
    files[name] = {{"size", entry.file_size()}, {"sha256", io::sha256_file(entry.path())}};
  }
  return {{"files", files}};
}

// checkpoint-<step> folders by name alone, oldest step first.
std::vector<CheckpointEntry> checkpoint_folders(const fs::path& output_dir) {
  std::vector<CheckpointEntry> found;
  if (!fs::is_directory(output_dir)) return found;
  const std::string prefix = "checkpoint-";
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind(prefix, 0) != 0) continue;
    const char* first = name.data() + prefix.size();
    const char* last = name.data() + name.size();
    int64_t step = 0;
    auto [end, ec] = std::from_chars(first, last, step);
    if (ec != std::errc() || end != last || first == last || *first == '-' || *first == '+') continue;
    found.push_back({step, entry.path()});
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return found;
}

// A single process writes checkpoints, so every temporary folder but this
// process's own (possibly being written by another of its threads) is left
// by a writer that was killed. Liveness of the pid is not asked: pids repeat
// across restarts in containers and mean nothing across hosts.
void remove_leftover_temps(const fs::path& output_dir) {
  const std::string own_suffix = fmt::format("-{}", ::getpid());
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.rfind(kTempPrefix, 0) != 0) continue;
    if (name.size() > own_suffix.size() && name.compare(name.size() - own_suffix.size(), own_suffix.size(), own_suffix) == 0)
      continue;
    log_info("removing an incomplete checkpoint left by a stopped run: {}", entry.path().string());
    fs::remove_all(entry.path());
  }
}

}  // namespace

void write_checkpoint_dir(const fs::path& final_dir, const std::function<void(const fs::path& tmp)>& write) {
  write_dir_atomic(
      final_dir,
      [&](const fs::path& tmp) {
        write(tmp);
        fsync_tree(tmp);
        // Last: the manifest is what makes the folder a checkpoint.
        write_file_atomic(tmp / kManifest, make_manifest(tmp).dump(2) + "\n");
      },
      kTempPrefix);
}

std::string verify_checkpoint_dir(const fs::path& dir) {
  const fs::path manifest_path = dir / kManifest;
  if (!fs::is_regular_file(manifest_path)) return fmt::format("{}: missing", manifest_path.string());
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_text_file(manifest_path));
  } catch (const std::exception&) {
    return fmt::format("{}: not readable JSON", manifest_path.string());
  }
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object())
    return fmt::format("{}: no \"files\" object", manifest_path.string());
  for (const auto& [name, expected] : manifest["files"].items()) {
    const fs::path file = dir / name;
    if (!expected.is_object() || !expected.contains("size") || !expected["size"].is_number_unsigned() ||
        !expected.contains("sha256") || !expected["sha256"].is_string())
      return fmt::format("{}: entry \"{}\" lacks a size or sha256", manifest_path.string(), name);
    std::error_code ec;
    const uint64_t size = fs::file_size(file, ec);
    if (ec) return fmt::format("{}: missing", file.string());
    if (size != expected["size"].get<uint64_t>())
      return fmt::format("{}: {} bytes, the manifest says {}", file.string(), size, expected["size"].get<uint64_t>());
    if (io::sha256_file(file) != expected["sha256"].get<std::string>())
      return fmt::format("{}: contents differ from the manifest (sha256)", file.string());
  }
  return "";
}

std::optional<CheckpointEntry> newest_checkpoint(const fs::path& output_dir, bool remove_leftovers) {
  if (!fs::is_directory(output_dir)) return std::nullopt;
  if (remove_leftovers) remove_leftover_temps(output_dir);
  auto folders = checkpoint_folders(output_dir);
  for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
    const std::string why = verify_checkpoint_dir(it->dir);
    if (why.empty()) return *it;
    log_warning("skipping checkpoint {}: {}", it->dir.string(), why);
  }
  return std::nullopt;
}

fs::path default_run_dir(const std::string& model_id) {
  // A local model folder names its run by its last component; a Hub id keeps its org/name.
  if (fs::is_directory(model_id)) return fs::path("results") / fs::absolute(model_id).lexically_normal().filename();
  return fs::path("results") / model_id;
}

std::vector<CheckpointEntry> list_checkpoints(const fs::path& output_dir) {
  if (!fs::is_directory(output_dir)) return {};
  remove_leftover_temps(output_dir);
  std::vector<CheckpointEntry> complete;
  for (auto& entry : checkpoint_folders(output_dir)) {
    std::string why = verify_checkpoint_dir(entry.dir);
    if (why.empty())
      complete.push_back(std::move(entry));
    else
      log_warning("skipping checkpoint {}: {}", entry.dir.string(), why);
  }
  return complete;
}

void rotate_checkpoints(const fs::path& output_dir, int64_t limit, const std::optional<fs::path>& keep_best) {
  FINCH_CHECK(limit > 0, "checkpoint limit {} must be positive", limit);
  // By name, as transformers does: no hashing of every kept checkpoint at each save.
  const auto folders = checkpoint_folders(output_dir);
  if (static_cast<int64_t>(folders.size()) <= limit) return;
  auto same = [](const fs::path& a, const fs::path& b) {
    std::error_code ec;
    return fs::equivalent(a, b, ec);
  };
  auto is_protected = [&](const fs::path& dir) {
    return same(dir, folders.back().dir) || (keep_best && same(dir, *keep_best));
  };
  const bool best_is_other = keep_best && !same(*keep_best, folders.back().dir);
  const int64_t keep = std::max<int64_t>(limit, best_is_other ? 2 : 1);
  int64_t remaining = static_cast<int64_t>(folders.size());
  for (const auto& entry : folders) {
    if (remaining <= keep) break;
    if (is_protected(entry.dir)) continue;
    fs::remove_all(entry.dir);
    --remaining;
  }
}

}  // namespace finch::io
