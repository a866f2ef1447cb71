// Split inference for folders and repos without a script (see data_files.h).
#include "finch/data/data_files.h"

#include <algorithm>
#include <regex>
#include <set>

namespace finch::data {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    auto slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

// One path component against one pattern component (no '/').
bool match_segment(const std::string& p, size_t pi, const std::string& s, size_t si) {
  while (pi < p.size()) {
    char c = p[pi];
    if (c == '*') {
      for (size_t k = si; k <= s.size(); ++k)
        if (match_segment(p, pi + 1, s, k)) return true;
      return false;
    }
    if (si >= s.size()) return false;
    if (c == '?') {
      ++pi, ++si;
      continue;
    }
    if (c == '[') {
      auto close = p.find(']', pi + 1);
      if (close != std::string::npos) {
        bool negate = pi + 1 < close && (p[pi + 1] == '!' || p[pi + 1] == '^');
        bool found = false;
        for (size_t k = pi + 1 + (negate ? 1 : 0); k < close; ++k) {
          if (k + 2 < close && p[k + 1] == '-') {
            if (s[si] >= p[k] && s[si] <= p[k + 2]) found = true;
            k += 2;
          } else if (p[k] == s[si]) {
            found = true;
          }
        }
        if (found == negate) return false;
        pi = close + 1, ++si;
        continue;
      }
    }
    if (c != s[si]) return false;
    ++pi, ++si;
  }
  return si == s.size();
}

bool match_parts(const std::vector<std::string>& p, size_t pi, const std::vector<std::string>& s, size_t si) {
  if (pi == p.size()) return si == s.size();
  if (p[pi] == "**") {
    // A trailing ** spans one or more components (a folder's contents, not the name itself), as fsspec's.
    for (size_t k = si + (pi + 1 == p.size() ? 1 : 0); k <= s.size(); ++k)
      if (match_parts(p, pi + 1, s, k)) return true;
    return false;
  }
  if (si == s.size()) return false;
  return match_segment(p[pi], 0, s[si], 0) && match_parts(p, pi + 1, s, si + 1);
}

const std::set<std::string> kFilesToIgnore = {"README.md",       "config.json",    "dataset_info.json",
                                              "dataset_infos.json", "dummy_data.zip", "dataset_dict.json"};

bool ignored(const std::string& path) {
  auto parts = split_path(path);
  if (kFilesToIgnore.count(parts.back())) return true;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].starts_with(".")) return true;
    if (i + 1 < parts.size() && parts[i].starts_with("__")) return true;
  }
  return false;
}

std::vector<std::string> resolve(const std::string& pattern, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  auto p = split_path(pattern);
  for (const auto& path : paths)
    if (match_parts(p, 0, split_path(path), 0)) out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

const char* kSep = "[-._ 0-9]";

using Patterns = std::vector<std::pair<std::string, std::vector<std::string>>>;

Patterns keyword_patterns(bool dir_name) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> keywords = {
      {"train", {"train", "training"}},
      {"validation", {"validation", "valid", "dev", "val"}},
      {"test", {"test", "testing", "eval", "evaluation"}}};
  std::vector<std::string> bases =
      dir_name ? std::vector<std::string>{"**/{k}/**", "**/{k}{s}*/**", "**/*{s}{k}/**", "**/*{s}{k}{s}*/**"}
               : std::vector<std::string>{"**/{k}{s}*", "**/*{s}{k}{s}*"};
  Patterns out;
  for (const auto& [split, words] : keywords) {
    std::vector<std::string> patterns;
    for (const auto& k : words)
      for (auto base : bases) {
        for (size_t at; (at = base.find("{k}")) != std::string::npos;) base.replace(at, 3, k);
        for (size_t at; (at = base.find("{s}")) != std::string::npos;) base.replace(at, 3, kSep);
        patterns.push_back(base);
      }
    out.push_back({split, patterns});
  }
  return out;
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& path) {
  return match_parts(split_path(pattern), 0, split_path(path), 0);
}

std::map<std::string, std::vector<std::string>> split_data_files(const std::vector<std::string>& all) {
  std::vector<std::string> paths;
  for (const auto& p : all)
    if (!ignored(p)) paths.push_back(p);
  std::map<std::string, std::vector<std::string>> result;

  // data/{split}-NNNNN-of-NNNNN*.*: the split is what precedes the shard numbers.
  auto sharded = resolve("data/*-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*", paths);
  if (!sharded.empty()) {
    static const std::regex name(R"((.+)-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*)");
    for (const auto& p : sharded) {
      std::smatch m;
      std::string base = p.substr(p.rfind('/') + 1);
      if (std::regex_search(base, m, name)) result[m[1].str()].push_back(p);
    }
    return result;
  }
  std::vector<Patterns> groups = {{{"logs", {"**/*.eval"}}},
                                  {{"test", {"**/task.toml", "**/instruction.md"}}},
                                  keyword_patterns(true),
                                  keyword_patterns(false),
                                  {{"train", {"**"}}}};
  for (const auto& group : groups) {
    for (const auto& [split, patterns] : group) {
      std::vector<std::string> files;
      for (const auto& pattern : patterns) {
        auto matched = resolve(pattern, paths);
        files.insert(files.end(), matched.begin(), matched.end());
      }
      if (!files.empty()) result[split] = files;
    }
    if (!result.empty()) return result;
  }
  return result;
}

}  // namespace finch::data
