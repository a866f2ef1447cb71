// The dataset settings: the seed tools' HFDatasetConfig (same names, same
// defaults, `--hfdc_*` aliases), how prepared splits become training
// samples, and where they are kept.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "finch/core/config.h"

namespace finch::data {

// The seed's default dataset and the configuration it used with it.
inline constexpr const char* kDefaultDataset = "cognitivecomputations/dolphin";
inline constexpr const char* kDefaultDatasetConfig = "flan1m-alpaca-uncensored";

struct DataConfig {
  std::string dataset_name = kDefaultDataset;
  std::string dataset_config;
  std::string split = "train";
  std::string revision = "main";
  double train_split_ratio = 0.9;
  double val_test_split_ratio = 0.5;
  std::string format = "template";
  std::string input_template = "### Instruction:\n{instruction}\n ### Input:\n{input}\n";
  std::string output_template = "### Response:\n{output}";
  std::map<std::string, std::string> field_mapping;
  int64_t num_proc = 0;
  int64_t seed = 42;
  std::string datasets_dir = "datasets";
  bool skip_bad_rows = false;
  int64_t max_seq_length = 2048;
  bool packing = true;
  bool train_on_inputs = false;

  // dataset_config with the seed's pairing applied: empty selects the default
  // dataset's configuration, or none at all for any other dataset.
  std::string effective_config() const {
    return dataset_config.empty() && dataset_name == kDefaultDataset ? kDefaultDatasetConfig : dataset_config;
  }

  // Range checks the types cannot express (ratios are checked by the split).
  void validate() const;

  void describe(config::Registry& registry) {
    auto s = registry.section("data", "The dataset: where it comes from, how rows become an input and an output, "
                                      "how it is split, and how splits become training samples.");
    s.add("dataset_name", dataset_name,
          "Hugging Face dataset id (org/name), or a local file or folder of json, jsonl, csv or parquet files")
        .alias("hfdc_dataset_name");
    s.add("dataset_config", dataset_config,
          "the dataset's configuration (subset); empty: flan1m-alpaca-uncensored for the default dataset, "
          "otherwise the dataset's default (a local file has none)")
        .alias("hfdc_dataset_config");
    s.add("split", split, "the source split that is divided into train/validation/test").alias("hfdc_split");
    s.add("revision", revision, "Hub revision: a branch, tag or commit").alias("hfdc_revision");
    s.add("train_split_ratio", train_split_ratio, "fraction of rows for training, in (0, 1)")
        .alias("hfdc_train_split_ratio");
    s.add("val_test_split_ratio", val_test_split_ratio,
          "fraction of the remaining rows that goes to test (the rest is validation), in (0, 1)")
        .alias("hfdc_val_test_split_ratio");
    s.add("format", format,
          "template: input/output built from columns with the templates; chat: a `messages` column "
          "(or field_mapping.messages) rendered with the model's chat template, the last assistant turn "
          "being the output");
    s.add("input_template", input_template,
          "Python str.format template of the input (prompt); {name} is a column or a field_mapping key")
        .alias("hfdc_input_template")
        .unescaped();
    s.add("output_template", output_template, "template of the output (completion)")
        .alias("hfdc_output_template")
        .unescaped();
    s.add("field_mapping", field_mapping,
          "template placeholder -> column name, for placeholders that differ from the dataset's columns")
        .alias("hfdc_field_mapping");
    s.add("num_proc", num_proc, "worker threads for templating and tokenization; 0 = one per core")
        .alias("hfdc_num_proc");
    s.add("seed", seed, "seed of the train/validation/test split (numpy's, as datasets.train_test_split)");
    s.add("datasets_dir", datasets_dir, "where prepared datasets are written");
    s.add("skip_bad_rows", skip_bad_rows,
          "skip (count and report) rows that cannot be read or lack a template field, instead of stopping")
        .alias("skip-bad-rows");
    s.add("max_seq_length", max_seq_length, "samples are truncated to this many tokens").alias("max_seq_length");
    s.add("packing", packing,
          "pack a batch's samples into one row (positions restart per sample, no attention across samples) "
          "instead of padding to the longest");
    s.add("train_on_inputs", train_on_inputs, "compute the loss on the input tokens too, not only the output");
  }
};

}  // namespace finch::data
