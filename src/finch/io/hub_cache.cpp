// The Hub cache layout (see hub_cache.h), written the way huggingface_hub's
// file_download.py and _tree_cache.py write it.
#include "finch/io/hub_cache.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "finch/core/error.h"
#include "finch/core/files.h"

namespace fs = std::filesystem;

namespace finch::io::hub {

std::string repo_type_name(RepoType type) { return type == RepoType::dataset ? "dataset" : "model"; }

RepoType parse_repo_type(const std::string& name) {
  if (name == "model") return RepoType::model;
  if (name == "dataset") return RepoType::dataset;
  fail("repo type '{}' is not supported: expected model or dataset", name);
}

std::string describe(const Repo& repo) { return repo_type_name(repo.type) + " " + repo.id; }

bool is_commit_hash(const std::string& revision) {
  if (revision.size() != 40) return false;
  for (char c : revision)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

namespace {

std::string folder_name(const Repo& repo) {
  // repo_folder_name: "{type}s" and the id's parts joined by "--".
  std::string name = repo_type_name(repo.type) + "s";
  size_t start = 0;
  while (true) {
    auto slash = repo.id.find('/', start);
    name += "--" + repo.id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return name;
}

// Writes `text` under a temporary name beside `path`, flushed, then renamed into place.
void replace_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  write_file_atomic(path, text);
}

bool inside(const fs::path& parent, const fs::path& child) {
  auto p = parent.lexically_normal();
  auto c = child.lexically_normal();
  auto [pi, ci] = std::mismatch(p.begin(), p.end(), c.begin(), c.end());
  return pi == p.end() && ci != c.end();
}

}  // namespace

Cache::Cache(fs::path hub_cache, Repo repo) : hub_cache_(std::move(hub_cache)) {
  folder_ = hub_cache_ / folder_name(repo);
}

fs::path Cache::pointer(const std::string& commit, const std::string& path) const {
  auto snapshots = folder_ / "snapshots";
  auto pointer = snapshots / commit / path;
  if (!inside(snapshots / commit, pointer) || !inside(snapshots, pointer))
    fail("invalid file path '{}' in revision '{}': it leaves the snapshot folder", path, commit);
  return pointer;
}

std::optional<std::string> Cache::commit_of(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  auto ref = folder_ / "refs" / revision;
  std::error_code ec;
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  // huggingface_hub reads the ref as written (no newline).
  return read_text_file(ref);
}

void Cache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  auto existing = commit_of(revision);
  if (existing && *existing == commit) return;
  replace_file(folder_ / "refs" / revision, commit);
}

void Cache::link(const std::string& etag, const std::string& commit, const std::string& path) const {
  auto dst = fs::absolute(pointer(commit, path));
  auto src = fs::absolute(blob(etag));
  fs::create_directories(dst.parent_path());
  std::error_code ec;
  fs::remove(dst, ec);
  fs::create_symlink(src.lexically_relative(dst.parent_path()), dst, ec);
  if (ec) {
    // Another process linked it first: fine if it points at the same blob.
    std::error_code ec2;
    if (fs::is_symlink(dst, ec2) && fs::equivalent(dst, src, ec2)) return;
    fail("cannot create {} -> {}: {}", dst.string(), src.string(), ec.message());
  }
}

std::optional<std::vector<RepoFile>> Cache::read_tree(const std::string& commit) const {
  auto path = folder_ / "trees" / (commit + ".json");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    auto data = nlohmann::json::parse(read_text_file(path));
    if (data.value("format_version", 0) != 1) return std::nullopt;
    std::vector<RepoFile> files;
    for (const auto& [name, info] : data.at("files").items()) {
      RepoFile f;
      f.path = name;
      f.size = info.at("size").get<int64_t>();
      f.blob_id = info.at("blob_id").get<std::string>();
      if (info.contains("lfs_sha256") && !info["lfs_sha256"].is_null()) {
        f.lfs_sha256 = info["lfs_sha256"].get<std::string>();
        if (info.contains("lfs_size") && !info["lfs_size"].is_null()) f.lfs_size = info["lfs_size"].get<int64_t>();
      }
      files.push_back(std::move(f));
    }
    return files;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // huggingface_hub ignores a corrupted listing too
  }
}

void Cache::write_tree(const std::string& commit, const std::vector<RepoFile>& files) const {
  nlohmann::json entries = nlohmann::json::object();  // std::map order: sorted, as json.dump of sorted keys
  for (const auto& f : files) {
    nlohmann::json info = {{"size", f.size}, {"blob_id", f.blob_id}};
    if (f.lfs_sha256) {
      info["lfs_sha256"] = *f.lfs_sha256;
      info["lfs_size"] = f.lfs_size ? nlohmann::json(*f.lfs_size) : nlohmann::json(nullptr);
    }
    entries[f.path] = info;
  }
  nlohmann::json data = {{"format_version", 1}, {"files", entries}};
  replace_file(folder_ / "trees" / (commit + ".json"), data.dump(1));
}

std::vector<std::string> Cache::snapshot_files(const std::string& commit) const {
  std::vector<std::string> out;
  auto root = snapshot(commit);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (fs::is_regular_file(it->path(), ec)) out.push_back(it->path().lexically_relative(root).generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Cache::mark_missing(const std::string& commit, const std::string& path) const {
  std::error_code ec;
  auto marker = folder_ / ".no_exist" / commit / path;
  if (!inside(folder_ / ".no_exist" / commit, marker)) return;
  fs::create_directories(marker.parent_path(), ec);
  if (!ec && !fs::exists(marker, ec)) std::ofstream(marker).flush();
}

}  // namespace finch::io::hub
