// The Hub client (hub.h). Mirrors huggingface_hub 2.4's file_download.py:
// HEAD /resolve for the commit, etag and size (following redirects that stay
// on the Hub, stopping at the CDN's), then GET into a process-unique
// blobs/{etag}.{random}.incomplete that is resumed with Range requests when
// the connection drops, checked (size; sha256 for LFS) and renamed to the blob.
#include "finch/io/hub.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/io/digest.h"
#include "finch/io/http.h"

namespace fs = std::filesystem;

namespace finch::io::hub {
namespace {

std::string normalize_etag(std::string etag) {
  // etag.lstrip("W/").strip('"')
  size_t i = 0;
  while (i < etag.size() && (etag[i] == 'W' || etag[i] == '/')) ++i;
  etag = etag.substr(i);
  auto start = etag.find_first_not_of('"');
  if (start == std::string::npos) return "";
  return etag.substr(start, etag.find_last_not_of('"') - start + 1);
}

bool is_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string random_hex8() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{:08x}", static_cast<uint32_t>(rng()));
}

bool retryable_status(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

// What huggingface_hub's hf_hub_url builds: revision quoted whole, path with '/' kept.
std::string type_prefix(RepoType type) { return type == RepoType::dataset ? "datasets/" : ""; }

struct FileMetadata {
  std::string commit;
  std::string etag;
  std::string location;
  std::optional<int64_t> size;
};

std::optional<int64_t> to_int(const std::string* text) {
  if (!text) return std::nullopt;
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

class Session {
 public:
  Session(const Settings& settings, const Repo& repo) : s_(settings), repo_(repo) {}

  std::vector<std::string> headers_for(const std::string& url) const {
    std::vector<std::string> h = {"User-Agent: finch; hf_hub/2.4.0-compatible", "Accept-Encoding: identity"};
    // The token goes to the Hub only, never to a CDN a redirect points at.
    if (s_.token && (http::origin(url) == http::origin(s_.endpoint) ||
                     http::origin(url) == http::origin("https://huggingface.co")))
      h.push_back("Authorization: Bearer " + *s_.token);
    return h;
  }

  // One request, retried with backoff on 429/5xx and connection failures when `retry`.
  http::Response call(const std::string& method, const std::string& url, bool retry,
                      const http::Sink& sink = nullptr) {
    double wait = s_.base_wait_s;
    for (int attempt = 0;; ++attempt) {
      auto r = http::perform({method, url, headers_for(url), 0}, sink);
      bool transient = (!r.transport_error.empty() && r.body_bytes == 0) ||
                       (r.transport_error.empty() && retryable_status(r.status));
      if (!retry || !transient || attempt >= s_.max_retries) return r;
      log_warning("{} from {}; retrying in {:g}s ({}/{})", what(r), url, wait, attempt + 1, s_.max_retries);
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      wait = std::min(wait * 2, s_.max_wait_s);
    }
  }

  static std::string what(const http::Response& r) {
    if (!r.transport_error.empty()) return "connection error (" + r.transport_error + ")";
    return fmt::format("HTTP {}", r.status);
  }

  // A one-line error for a failed response. `file` and `revision` name what was asked for.
  [[noreturn]] void raise(const http::Response& r, const std::string& url, const std::string& revision,
                          const std::string& file = "") const {
    std::string target = describe(repo_);
    if (!r.transport_error.empty())
      fail("cannot reach {} for {}: {} (set HF_HUB_OFFLINE=1 to use the local cache only)", url, target,
           r.transport_error);
    const std::string* code = r.header("x-error-code");
    std::string error_code = code ? *code : "";
    if (r.status == 401 || r.status == 403) {
      if (error_code == "GatedRepo")
        fail("HTTP {}: {} is gated: accept its conditions on the Hub, then use a token with access ({})", r.status,
             target, s_.token ? "the token from " + s_.token_source + " has none" : "no token is set: set HF_TOKEN");
      if (!s_.token)
        fail("HTTP {} for {}: a token is needed (set HF_TOKEN, or log in with `hf auth login`), or the repo does not "
             "exist",
             r.status, target);
      fail("HTTP {} for {}: the token from {} was rejected (invalid, or without access to this repo), or the repo "
           "does not exist",
           r.status, target, s_.token_source);
    }
    if (r.status == 404) {
      if (error_code == "RevisionNotFound") throw NotFound(fmt::format("revision '{}' not found in {}", revision, target));
      if (error_code == "EntryNotFound" || (!file.empty() && error_code != "RepoNotFound"))
        throw NotFound(fmt::format("'{}' not found in {} at revision '{}'", file, target, revision));
      throw NotFound(fmt::format("{} not found at {}", target, s_.endpoint));
    }
    if (retryable_status(r.status))
      fail("HTTP {} from {} after {} retries: the Hub is unavailable, try again later", r.status, url, s_.max_retries);
    fail("HTTP {} from {} for {}", r.status, url, target);
  }

  nlohmann::json get_json(const std::string& url, const std::string& revision, std::string* next = nullptr,
                          const std::string& folder = "") {
    auto r = call("GET", url, true);
    if (!r.ok()) raise(r, url, revision, folder);
    if (next) {
      const std::string* link = r.header("link");
      *next = link ? http::join_url(url, http::next_link(*link)) : "";
      if (link && http::next_link(*link).empty()) next->clear();
    }
    try {
      return nlohmann::json::parse(r.body);
    } catch (const nlohmann::json::exception&) {
      fail("{} answered something other than JSON: is HF_ENDPOINT ({}) a Hugging Face Hub?", url, s_.endpoint);
    }
  }

  // HEAD /resolve, following redirects that stay on the Hub's origin.
  http::Response head(std::string url, bool retry, std::string* final_url) {
    for (int hop = 0; hop < 10; ++hop) {
      auto r = call("HEAD", url, retry);
      *final_url = url;
      if (!r.is_redirect()) return r;
      auto target = http::join_url(url, *r.header("location"));
      if (http::origin(target) != http::origin(url)) return r;  // a CDN: its metadata is on this response
      url = target;
    }
    fail("too many redirects resolving {}", url);
  }

  static FileMetadata metadata(const http::Response& r, const std::string& url) {
    FileMetadata m;
    if (auto* c = r.header("x-repo-commit")) m.commit = *c;
    if (auto* e = r.header("x-linked-etag")) m.etag = normalize_etag(*e);
    else if (auto* e2 = r.header("etag")) m.etag = normalize_etag(*e2);
    // The etag names the blob file: a server (HF_ENDPOINT may be any mirror) must not steer it elsewhere.
    if (!m.etag.empty() && (m.etag[0] == '.' || m.etag.find_first_not_of(
                                                    "0123456789abcdefABCDEF_-.") != std::string::npos))
      fail("unusable ETag '{}' for {}", m.etag, url);
    m.location = r.is_redirect() ? http::join_url(url, *r.header("location")) : url;
    m.size = to_int(r.header("x-linked-size"));
    if (!m.size && !r.is_redirect()) m.size = to_int(r.header("content-length"));
    return m;
  }

  // http_get: stream `url` into `tmp`, resuming with Range after a drop (5 tries without progress).
  void download(std::string url, const fs::path& tmp, std::optional<int64_t> expected, const std::string& file) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write {}", tmp.string());
    int64_t written = 0;
    int tries_left = 5;
    double wait = s_.base_wait_s;
    for (int hop = 0;;) {
      int64_t resume = written;
      bool restarted = false;
      http::Sink sink = [&](long status, const char* data, size_t size) {
        if (status == 200 && resume > 0 && !restarted) {  // the server ignored our Range: start over
          out.seekp(0);
          written = 0;
          restarted = true;
          fs::resize_file(tmp, 0);
        }
        out.write(data, static_cast<std::streamsize>(size));
        written += static_cast<int64_t>(size);
        return static_cast<bool>(out);
      };
      auto headers = headers_for(url);
      if (resume > 0) headers.push_back(fmt::format("Range: bytes={}-", resume));
      auto r = http::perform({"GET", url, headers, 0}, sink);
      out.flush();
      if (!out) fail("cannot write {} (disk full?)", tmp.string());
      if (r.is_redirect() && hop++ < 10) {
        url = http::join_url(url, *r.header("location"));
        continue;
      }
      if (!r.transport_error.empty()) {
        if (written > resume) tries_left = 5;  // progress: the budget starts over, as http_get's
        if (--tries_left < 0) fail("downloading {} from {} failed: {}", file, url, r.transport_error);
        log_warning("connection dropped downloading {} after {} bytes ({}); resuming", file, written, r.transport_error);
        std::this_thread::sleep_for(std::chrono::duration<double>(s_.base_wait_s));
        continue;
      }
      if (retryable_status(r.status) || r.status == 408) {
        if (--tries_left < 0) raise(r, url, "", file);
        log_warning("HTTP {} from {}; retrying in {:g}s", r.status, url, wait);
        std::this_thread::sleep_for(std::chrono::duration<double>(wait));
        wait = std::min(wait * 2, s_.max_wait_s);
        continue;
      }
      if (r.status < 200 || r.status >= 300) raise(r, url, "", file);
      if (!expected) {
        if (auto* range = r.header("content-range")) {
          std::string total = range->substr(range->rfind('/') + 1);
          expected = to_int(&total);
        } else if (auto* length = r.header("content-length")) {
          expected = (restarted ? 0 : resume) + to_int(length).value_or(0);
        }
      }
      break;
    }
    out.close();
    if (expected && *expected != written)
      fail("download of {} is {} bytes, expected {}: the connection was unreliable, try again", file, written,
           *expected);
  }

  const Settings& s_;
  const Repo& repo_;
};

std::string resolve_url(const Settings& s, const Repo& repo, const std::string& revision, const std::string& path) {
  return fmt::format("{}/{}{}/resolve/{}/{}", s.endpoint, type_prefix(repo.type), repo.id, http::quote(revision, ""),
                     http::quote(path));
}

void check_relative(const std::string& path) {
  if (path.empty() || path.starts_with("/") || fs::path(path).lexically_normal().string().starts_with(".."))
    fail("invalid file path '{}': expected a path inside the repo", path);
}

}  // namespace

Client::Client(Settings settings) : settings_(std::move(settings)) {}

std::string Client::resolve_commit(const Repo& repo, const std::string& revision) {
  Cache cache(settings_.hub_cache, repo);
  if (settings_.offline) {
    auto commit = cache.commit_of(revision);
    if (!commit)
      fail("{} at revision '{}' is not in the cache {} and HF_HUB_OFFLINE is set", describe(repo), revision,
           settings_.hub_cache.string());
    return *commit;
  }
  if (is_commit_hash(revision)) return revision;
  Session session(settings_, repo);
  auto url = fmt::format("{}/api/{}s/{}/revision/{}", settings_.endpoint, repo_type_name(repo.type), repo.id,
                         http::quote(revision, ""));
  auto info = session.get_json(url, revision);
  if (!info.contains("sha") || !info["sha"].is_string()) fail("{} gave no commit for revision '{}'", url, revision);
  return info["sha"].get<std::string>();
}

std::vector<RepoFile> Client::list_files(const Repo& repo, const std::string& revision, const std::string& folder) {
  Cache cache(settings_.hub_cache, repo);
  std::string prefix = folder.empty() ? "" : folder + "/";
  if (settings_.offline) {
    auto commit = cache.commit_of(revision);
    if (!commit || !fs::is_directory(cache.snapshot(*commit)))
      throw NotFound(fmt::format("{} at revision '{}' is not in the cache {} and HF_HUB_OFFLINE is set",
                                 describe(repo), revision, settings_.hub_cache.string()));
    std::vector<RepoFile> out;
    if (auto tree = cache.read_tree(*commit)) {
      for (auto& f : *tree)
        if (f.path.starts_with(prefix)) out.push_back(f);
    } else {
      for (auto& p : cache.snapshot_files(*commit))
        if (p.starts_with(prefix)) {
          RepoFile f;
          f.path = p;
          out.push_back(std::move(f));
        }
    }
    return out;
  }
  Session session(settings_, repo);
  std::string url = fmt::format("{}/api/{}s/{}/tree/{}", settings_.endpoint, repo_type_name(repo.type), repo.id,
                                http::quote(revision, ""));
  if (!folder.empty()) url += fmt::format("/{}", http::quote(folder, ""));
  url += "?recursive=true&expand=false";
  std::vector<RepoFile> out;
  while (!url.empty()) {
    std::string next;
    auto page = session.get_json(url, revision, &next, folder);
    if (!page.is_array()) fail("{} did not answer a file list", url);
    for (const auto& entry : page) {
      if (entry.value("type", "") != "file") continue;
      RepoFile f;
      f.path = entry.at("path").get<std::string>();
      f.size = entry.value("size", int64_t{0});
      f.blob_id = entry.value("oid", "");
      if (entry.contains("lfs") && entry["lfs"].is_object()) {
        f.lfs_sha256 = entry["lfs"].value("oid", "");
        f.lfs_size = entry["lfs"].value("size", int64_t{0});
      }
      out.push_back(std::move(f));
    }
    url = next;
  }
  return out;
}

fs::path Client::download_file(const Repo& repo, const std::string& path, const std::string& revision) {
  check_relative(path);
  Cache cache(settings_.hub_cache, repo);
  if (is_commit_hash(revision) && fs::exists(cache.pointer(revision, path))) return cache.pointer(revision, path);
  auto from_cache = [&]() -> std::optional<fs::path> {
    auto commit = cache.commit_of(revision);
    if (commit && fs::exists(cache.pointer(*commit, path))) return cache.pointer(*commit, path);
    return std::nullopt;
  };
  if (settings_.offline) {
    if (auto p = from_cache()) return *p;
    throw NotFound(fmt::format("file '{}' of {} at revision '{}' is not in the cache {} and HF_HUB_OFFLINE is set",
                               path, describe(repo), revision, settings_.hub_cache.string()));
  }

  Session session(settings_, repo);
  auto url = resolve_url(settings_, repo, revision, path);
  std::string final_url;
  // First without retries, so a cached copy answers quickly when the Hub is down (as hf_hub_download).
  auto r = session.head(url, false, &final_url);
  if (r.status == 404 || (r.status >= 400 && !retryable_status(r.status) && r.status != 401 && r.status != 403)) {
    if (auto* commit = r.header("x-repo-commit"); commit && r.status == 404) {
      cache.mark_missing(*commit, path);
      cache.write_ref(revision, *commit);
    }
    session.raise(r, url, revision, path);
  }
  if (!r.ok() && !r.is_redirect()) {
    if (auto p = from_cache()) {
      log_warning("{} for {}; using the cached copy", Session::what(r), url);
      return *p;
    }
    if (!r.transport_error.empty() || retryable_status(r.status)) r = session.head(url, true, &final_url);
    if (!r.ok() && !r.is_redirect()) session.raise(r, url, revision, path);
  }
  auto meta = Session::metadata(r, final_url);
  if (meta.commit.empty())
    fail("{} has no X-Repo-Commit header: is HF_ENDPOINT ({}) a Hugging Face Hub?", url, settings_.endpoint);
  if (meta.etag.empty()) fail("{} has no ETag: cannot cache the file reproducibly", url);

  auto blob = cache.blob(meta.etag);
  auto pointer = cache.pointer(meta.commit, path);
  if (fs::exists(pointer)) {
    cache.write_ref(revision, meta.commit);
    return pointer;
  }
  fs::create_directories(blob.parent_path());
  fs::create_directories(pointer.parent_path());
  cache.write_ref(revision, meta.commit);
  if (!fs::exists(blob)) {
    fs::path tmp = blob;
    tmp += fmt::format(".{}.incomplete", random_hex8());
    try {
      session.download(meta.location, tmp, meta.size, path);
      if (is_sha256(meta.etag)) {  // an LFS file: its etag is the sha256 of its bytes
        auto digest = sha256_file(tmp);
        if (digest != meta.etag)
          fail("download of {} is corrupt: sha256 {} but the Hub says {}; try again", path, digest, meta.etag);
      }
      fs::rename(tmp, blob);
    } catch (...) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw;
    }
  }
  cache.link(meta.etag, meta.commit, path);
  return pointer;
}

fs::path Client::download_snapshot(const Repo& repo, const std::string& revision,
                                   const std::vector<std::string>& paths) {
  Cache cache(settings_.hub_cache, repo);
  if (settings_.offline) {
    auto commit = cache.commit_of(revision);
    if (!commit || !fs::is_directory(cache.snapshot(*commit)))
      fail("{} at revision '{}' is not in the cache {} and HF_HUB_OFFLINE is set", describe(repo), revision,
           settings_.hub_cache.string());
    std::vector<std::string> wanted = paths;
    if (wanted.empty())
      if (auto tree = cache.read_tree(*commit))
        for (auto& f : *tree) wanted.push_back(f.path);
    for (const auto& p : wanted)
      if (!fs::exists(cache.pointer(*commit, p)))
        fail("the cached snapshot of {} at revision '{}' lacks '{}' and HF_HUB_OFFLINE is set", describe(repo),
             revision, p);
    return cache.snapshot(*commit);
  }
  auto commit = resolve_commit(repo, revision);
  std::vector<std::string> wanted = paths;
  if (wanted.empty()) {
    auto tree = cache.read_tree(commit);
    if (!tree) {
      tree = list_files(repo, commit);
      cache.write_tree(commit, *tree);
    }
    for (auto& f : *tree) wanted.push_back(f.path);
  }
  for (const auto& p : wanted) download_file(repo, p, commit);
  fs::create_directories(cache.snapshot(commit));
  cache.write_ref(revision, commit);
  return cache.snapshot(commit);
}

namespace {

// A name that is not a local directory must be a Hub id: "name" or "org/name".
void check_hub_id(const std::string& id_or_dir) {
  if (fs::exists(id_or_dir)) fail("{}: expected a model directory or a Hub model id", id_or_dir);
  if (id_or_dir.starts_with("/") || id_or_dir.starts_with(".") || id_or_dir.starts_with("~") ||
      std::count(id_or_dir.begin(), id_or_dir.end(), '/') > 1)
    fail("{}: no such model directory (and not a Hub id of the form org/name)", id_or_dir);
}

}  // namespace

fs::path model_file(const std::string& id_or_dir, const std::string& file) {
  if (fs::is_directory(id_or_dir)) {
    const fs::path path = fs::path(id_or_dir) / file;
    if (!fs::is_regular_file(path)) fail("{}: no such file in the model directory", path.string());
    return path;
  }
  check_hub_id(id_or_dir);
  Client client;
  const Repo repo{id_or_dir, RepoType::model};
  const Cache cache(client.settings().hub_cache, repo);
  if (auto commit = cache.commit_of("main"); commit && fs::exists(cache.pointer(*commit, file)))
    return cache.pointer(*commit, file);
  return client.download_file(repo, file, "main");
}

fs::path model_dir(const std::string& id_or_dir, bool tokenizer_only) {
  if (fs::is_directory(id_or_dir)) return id_or_dir;
  check_hub_id(id_or_dir);
  Client client;
  const Repo repo{id_or_dir, RepoType::model};
  auto wanted = [&](const std::string& path) {
    const auto ends = [&](const char* suffix) {
      const std::string s(suffix);
      return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
    };
    if (path.find('/') != std::string::npos) return false;  // top-level files only
    if (ends(".json") || ends(".jinja") || path == "tokenizer.model") return true;
    return !tokenizer_only && ends(".safetensors");
  };
  std::vector<std::string> paths;
  for (const auto& f : client.list_files(repo, "main"))
    if (wanted(f.path)) paths.push_back(f.path);
  if (paths.empty()) fail("{}: the Hub repo has no config or tokenizer files", id_or_dir);
  return client.download_snapshot(repo, "main", paths);
}

}  // namespace finch::io::hub
