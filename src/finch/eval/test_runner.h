// `finch test`, the seed's checkpoint test: the newest checkpoint of a run
// (LoRA merged into its base) answers the inputs of the newest test split;
// predictions are written beside the checkpoint and scored against the
// labels with BERTScore and exact match. Optionally the base model answers
// the same inputs and is scored side by side.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "finch/eval/bertscore.h"
#include "finch/eval/checkpoint.h"

#include <nlohmann/json.hpp>

namespace finch::eval {

struct TestOptions {
  CheckpointQuery checkpoint;        // which checkpoint (see find_checkpoint)
  std::string base_model;            // instead of the adapter's base_model_name_or_path
  std::filesystem::path test_file;   // empty: the newest test.jsonl under datasets_dir
  std::filesystem::path datasets_dir = "datasets";
  int64_t max_samples = 1024;        // the first rows of the test split
  int64_t batch_size = 16;           // prompts decoded together
  // The seed's vLLM sampling: temperature 0.1, top_p 0.95, 512 new tokens at most.
  double temperature = 0.1;          // 0: greedy
  double top_p = 0.95;
  int64_t top_k = 0;                 // 0: off (vLLM's default)
  int64_t max_tokens = 512;
  uint64_t seed = 42;
  bool compare_base = false;
  std::string dtype = "auto";        // auto: bf16 on a GPU, fp32 on the CPU
  std::string device = "auto";
  BertScoreSettings bertscore;
};

// The newest (by modification time) test.jsonl anywhere under `datasets_dir`.
std::filesystem::path newest_test_file(const std::filesystem::path& datasets_dir);

// Runs the test; writes predictions.jsonl (and base_predictions.jsonl with
// compare_base) and metrics.json into the checkpoint folder, prints a summary.
// Returns metrics.json's contents.
nlohmann::json run_test(const TestOptions& options);

}  // namespace finch::eval
