// Dataset settings -> local files (see source.h).
#include "finch/data/source.h"

#include <fmt/ranges.h>

#include "finch/core/error.h"
#include "finch/core/log.h"
#include "finch/data/data_files.h"
#include "finch/data/table_reader.h"
#include "finch/io/hub.h"

namespace fs = std::filesystem;

namespace finch::data {
namespace {

bool readable_format(const std::string& path) { return table_format_of(path).has_value(); }

std::string listing(const std::vector<std::string>& names) {
  if (names.empty()) return "nothing";
  std::vector<std::string> head(names.begin(), names.begin() + std::min<size_t>(names.size(), 8));
  return fmt::format("{}{}", fmt::join(head, ", "), names.size() > 8 ? fmt::format(", ... ({} in all)", names.size()) : "");
}

// Narrows repo paths to the config: a folder named for it, or files whose stem is it.
std::vector<std::string> config_paths(const std::vector<std::string>& paths, const std::string& config,
                                      std::string* narrowed_to) {
  if (config.empty() || config == "default") return paths;
  std::vector<std::string> in_folder, named;
  for (const auto& p : paths) {
    if (p.starts_with(config + "/")) in_folder.push_back(p.substr(config.size() + 1));
    auto base = p.substr(p.rfind('/') + 1);
    if (base.substr(0, base.find('.')) == config) named.push_back(p);
  }
  if (!in_folder.empty()) {
    *narrowed_to = config + "/";
    return in_folder;
  }
  if (!named.empty()) return named;
  fail("config '{}' not found: no folder or file named for it among {}", config, listing(paths));
}

}  // namespace

std::vector<std::string> select_split_files(const std::vector<std::string>& paths, const std::string& split,
                                            const std::string& where) {
  auto splits = split_data_files(paths);
  auto it = splits.find(split);
  if (it == splits.end()) {
    std::vector<std::string> names;
    for (auto& [name, files] : splits) names.push_back(name);
    fail("split '{}' not found in {}: its splits are {} (files: {})", split, where, listing(names), listing(paths));
  }
  std::vector<std::string> out;
  for (const auto& f : it->second)
    if (readable_format(f)) out.push_back(f);
  if (out.empty())
    fail("split '{}' of {} has no json, jsonl, csv or parquet file (it has {})", split, where, listing(it->second));
  return out;
}

DatasetFiles resolve_dataset_files(const std::string& dataset_name, const std::string& dataset_config,
                                   const std::string& split, const std::string& revision) {
  std::error_code ec;
  if (fs::is_regular_file(dataset_name, ec)) return {{fs::path(dataset_name)}, "local file " + dataset_name};
  if (fs::is_directory(dataset_name, ec)) {
    fs::path root(dataset_name);
    std::vector<std::string> paths;
    for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (ec) break;
      if (fs::is_regular_file(it->path(), ec)) paths.push_back(it->path().lexically_relative(root).generic_string());
    }
    std::string narrowed;
    paths = config_paths(paths, dataset_config, &narrowed);
    auto selected = select_split_files(paths, split, "local folder " + dataset_name);
    DatasetFiles out;
    for (const auto& p : selected) out.files.push_back(root / (narrowed + p));
    out.description = fmt::format("local folder {}, split {}: {} file(s)", dataset_name, split, out.files.size());
    return out;
  }
  if (dataset_name.find('/') == std::string::npos && dataset_name.find_first_of(".\\") != std::string::npos)
    fail("dataset '{}' is neither a local file or folder nor a Hub dataset id (org/name)", dataset_name);

  io::hub::Client client;
  io::hub::Repo repo{dataset_name, io::hub::RepoType::dataset};
  const std::string config = dataset_config.empty() ? "default" : dataset_config;
  const std::string parquet_ref = "refs/convert/parquet";
  std::string parquet_note;
  // The parquet conversion is of the main branch: another revision reads its own files.
  if (revision != "main") parquet_note = fmt::format("revision '{}' is not main", revision);
  if (revision == "main") {
    try {
      auto files = client.list_files(repo, parquet_ref, config + "/" + split);
      DatasetFiles out;
      for (const auto& f : files)
        if (f.path.ends_with(".parquet")) out.files.push_back(client.download_file(repo, f.path, parquet_ref));
      std::sort(out.files.begin(), out.files.end());
      if (!out.files.empty()) {
        out.description = fmt::format("hub dataset {} (parquet conversion {}, config {}, split {}): {} file(s)",
                                      dataset_name, parquet_ref, config, split, out.files.size());
        return out;
      }
      parquet_note = fmt::format("{}/{}/ in {} has no parquet file", config, split, parquet_ref);
    } catch (const io::hub::NotFound& e) {
      parquet_note = e.what();
    }
  }

  auto listed = client.list_files(repo, revision);
  std::vector<std::string> paths;
  for (const auto& f : listed) paths.push_back(f.path);
  std::string narrowed;
  std::vector<std::string> selected;
  try {
    paths = config_paths(paths, dataset_config, &narrowed);
    selected = select_split_files(paths, split, fmt::format("hub dataset {} at '{}'", dataset_name, revision));
  } catch (const Error& e) {
    fail("{} (and no parquet conversion: {})", e.what(), parquet_note);
  }
  DatasetFiles out;
  for (const auto& p : selected) out.files.push_back(client.download_file(repo, narrowed + p, revision));
  out.description = fmt::format("hub dataset {} at '{}' (config {}, split {}): {} file(s)", dataset_name, revision,
                                config, split, out.files.size());
  return out;
}

}  // namespace finch::data
