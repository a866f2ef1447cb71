// Which files of a folder or repo make each split, the way `datasets` decides
// for a dataset without a loading script (datasets/data_files.py): first
// data/{split}-NNNNN-of-NNNNN*.* shards; else files or folders named for a
// split keyword (train/training, validation/valid/dev/val, test/testing/eval/
// evaluation), with fsspec glob semantics; else everything is `train`.
// Hidden paths, `__*` folders and README.md-like files are never data.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace finch::data {

// fsspec-style glob over '/'-separated relative paths: `**` spans zero or more
// folders (one or more components when last), `*` and `?` stay within one, `[...]` is a character class.
bool glob_match(const std::string& pattern, const std::string& path);

// split -> its files (relative paths), in datasets' order: per pattern, sorted.
// `paths` are every file of the folder or repo, relative to it.
std::map<std::string, std::vector<std::string>> split_data_files(const std::vector<std::string>& paths);

}  // namespace finch::data
