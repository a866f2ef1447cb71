// The Hugging Face Hub cache layout, as huggingface_hub writes and reads it,
// so a cache filled by either program serves the other:
//   {hub_cache}/{models|datasets}--{org}--{name}/
//     blobs/{etag}                       file contents (etag: git sha1, or sha256 for LFS)
//     snapshots/{commit}/{path}          relative symlink to ../../blobs/{etag}
//     refs/{revision}                    the commit a branch or tag named (refs/convert/parquet nests)
//     trees/{commit}.json                the repo's file listing at that commit (format_version 1)
//     .no_exist/{commit}/{path}          a file known to be absent
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace finch::io::hub {

enum class RepoType { model, dataset };

struct Repo {
  std::string id;  // "org/name" (or "name")
  RepoType type = RepoType::model;
};

std::string repo_type_name(RepoType type);  // "model", "dataset"
RepoType parse_repo_type(const std::string& name);
std::string describe(const Repo& repo);     // "dataset org/name"

// One file of a repo, as the tree API lists it.
struct RepoFile {
  std::string path;
  int64_t size = 0;
  std::string blob_id;                    // git oid
  std::optional<std::string> lfs_sha256;  // LFS files only
  std::optional<int64_t> lfs_size;
};

bool is_commit_hash(const std::string& revision);  // 40 lowercase hex digits

class Cache {
 public:
  Cache(std::filesystem::path hub_cache, Repo repo);

  const std::filesystem::path& folder() const { return folder_; }
  std::filesystem::path blob(const std::string& etag) const { return folder_ / "blobs" / etag; }
  std::filesystem::path snapshot(const std::string& commit) const { return folder_ / "snapshots" / commit; }
  // snapshots/{commit}/{path}; a path escaping the snapshot is an error.
  std::filesystem::path pointer(const std::string& commit, const std::string& path) const;

  // The commit `revision` names in this cache: itself if a commit hash, else refs/{revision}.
  std::optional<std::string> commit_of(const std::string& revision) const;
  // Writes refs/{revision} (atomically) unless revision is the commit itself or the ref already says so.
  void write_ref(const std::string& revision, const std::string& commit) const;

  // Points snapshots/{commit}/{path} at blobs/{etag} with a relative symlink.
  void link(const std::string& etag, const std::string& commit, const std::string& path) const;

  std::optional<std::vector<RepoFile>> read_tree(const std::string& commit) const;
  void write_tree(const std::string& commit, const std::vector<RepoFile>& files) const;
  // The files present under snapshots/{commit}, as repo paths, sorted.
  std::vector<std::string> snapshot_files(const std::string& commit) const;

  void mark_missing(const std::string& commit, const std::string& path) const;

 private:
  std::filesystem::path hub_cache_;
  std::filesystem::path folder_;
};

}  // namespace finch::io::hub
