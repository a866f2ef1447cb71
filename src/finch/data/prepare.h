// `finch data prepare`: a dataset (Hub or local) -> templated {input, output}
// rows -> a seeded train/validation/test split written as JSONL under
//   {datasets_dir}/{dataset_name}/{config}/train={T}%-val={V}%-test={S}%/
// with the marker `.data_ready` written last. One process prepares while any
// other (another rank, another run) waits on a lock and then reuses the result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "finch/data/config.h"

namespace finch::tokenizer {
class PretrainedTokenizer;
}

namespace finch::data {

struct PrepareOptions {
  bool force = false;                                  // prepare again even when .data_ready exists
  const tokenizer::PretrainedTokenizer* chat = nullptr;  // the chat template, for format=chat
  std::string chat_model;                              // where it came from (recorded with the result)
  std::string config_yaml;                             // the resolved configuration, saved beside the splits
};

struct PrepareResult {
  std::filesystem::path dir;
  bool reused = false;  // .data_ready was there: nothing was done
  int64_t rows = 0, train = 0, validation = 0, test = 0, bad_rows = 0;
};

// The folder a configuration prepares into (names made safe, see below).
std::filesystem::path prepared_dir(const DataConfig& config);

// A dataset or config name as one safe path component: `/` becomes `_` as in
// the seed; any byte outside [A-Za-z0-9._-] and a leading `.` are %-escaped,
// so `..`, absolute paths and separators can never leave the datasets folder.
std::string safe_component(const std::string& name);

PrepareResult prepare_dataset(const DataConfig& config, const PrepareOptions& options);

// Tokenizes the three splits of a prepared folder into their token caches
// (data/samples.h), reusing caches that are current. Fails when a split loses
// more than 5% of its rows to truncation (data.max_seq_length).
struct SplitTokens {
  std::string split;  // "training", "validation", "test"
  int64_t rows = 0, tokens = 0, dropped = 0;
  bool reused = false;
};
std::vector<SplitTokens> tokenize_prepared(const std::filesystem::path& dir, const DataConfig& config,
                                           const tokenizer::PretrainedTokenizer& tokenizer,
                                           const std::filesystem::path& tokenizer_dir);

// One split of a prepared folder as training samples (its token cache built
// or reused under the folder's lock; fails past 5% of rows dropped).
class SampleSet;
std::shared_ptr<const SampleSet> load_samples(const std::filesystem::path& jsonl, const DataConfig& config,
                                              const tokenizer::PretrainedTokenizer& tokenizer,
                                              const std::filesystem::path& tokenizer_dir);

}  // namespace finch::data
