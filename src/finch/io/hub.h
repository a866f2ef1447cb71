// A Hugging Face Hub client: lists a repo's files, downloads files into the
// Hub cache exactly as huggingface_hub does (io/hub_cache.h), and resolves
// from that cache alone when offline. Settings come from the environment the
// way huggingface_hub reads it: HF_ENDPOINT, HF_TOKEN (else the token file,
// HF_TOKEN_PATH or HF_HOME/token), HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE.
// The token is sent only to the endpoint's origin and never printed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "finch/core/error.h"
#include "finch/io/hub_cache.h"

namespace finch::io::hub {

struct Settings {
  std::string endpoint = "https://huggingface.co";  // no trailing '/'
  std::filesystem::path hub_cache;
  std::optional<std::string> token;
  std::string token_source;  // "HF_TOKEN" or the token file's path: named in 401 errors
  bool offline = false;
  int max_retries = 5;         // 5xx, 429 and connection failures, as huggingface_hub's http_backoff
  double base_wait_s = 1.0;    // doubling up to max_wait_s
  double max_wait_s = 8.0;

  static Settings from_environment();
};

class Client {
 public:
  explicit Client(Settings settings = Settings::from_environment());
  const Settings& settings() const { return settings_; }

  // The commit a revision (branch, tag, ref such as refs/convert/parquet, or commit) names.
  std::string resolve_commit(const Repo& repo, const std::string& revision);

  // Every file under `folder` ("" for the whole repo), recursively, at `revision`.
  // Offline: the cached listing of that commit, else the files cached in its snapshot.
  std::vector<RepoFile> list_files(const Repo& repo, const std::string& revision, const std::string& folder = "");

  // Downloads one file (if not cached) and returns its path in the snapshot.
  std::filesystem::path download_file(const Repo& repo, const std::string& path, const std::string& revision);

  // Downloads `paths` (every file when empty) and returns the snapshot folder.
  std::filesystem::path download_snapshot(const Repo& repo, const std::string& revision,
                                          const std::vector<std::string>& paths = {});

 private:
  Settings settings_;
};

// Raised for a 404 (repo, revision or file absent), so callers can try another source.
class NotFound : public Error {
 public:
  using Error::Error;
};

// A model named by a local directory or a Hub id (revision main): the
// directory itself, or its snapshot in the Hub cache after downloading what
// finch reads (config, tokenizer and generation files, chat templates, and
// unless `tokenizer_only`, the safetensors weights; never pickles).
std::filesystem::path model_dir(const std::string& id_or_dir, bool tokenizer_only = false);

// One file of a model named as model_dir names it, without the rest: the
// directory's own file, else the copy in the Hub cache at revision main, else
// that file alone downloaded into the cache (for estimates that read only
// config.json). A cached copy is used without asking the Hub for a newer one.
std::filesystem::path model_file(const std::string& id_or_dir, const std::string& file);

}  // namespace finch::io::hub
