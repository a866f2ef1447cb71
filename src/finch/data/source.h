// A dataset setting -> the local files that hold one split: a local file, a
// local folder (split chosen as `datasets` does, data/data_files.h), or a Hub
// dataset: the Hub's parquet conversion (refs/convert/parquet,
// {config}/{split}/*.parquet) when it has one, else the repo's own data files
// at `revision`, narrowed to the folder or file named for the config.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace finch::data {

struct DatasetFiles {
  std::vector<std::filesystem::path> files;
  std::string description;  // where they came from, for logs
};

DatasetFiles resolve_dataset_files(const std::string& dataset_name, const std::string& dataset_config,
                                   const std::string& split, const std::string& revision = "main");

// The json/jsonl/csv/parquet files of `split` among `paths` (relative to a
// folder or repo), or an error naming what was looked for and what exists.
std::vector<std::string> select_split_files(const std::vector<std::string>& paths, const std::string& split,
                                            const std::string& where);

}  // namespace finch::data
