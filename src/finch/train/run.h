// `finch train` as one library call: settings in, a trained run folder out.
//   model:  a local HF folder or a Hub id (downloaded into the Hub cache)
//   data:   train.data_dir, else the prepared dataset of section data
//           (prepared now if it is not yet), tokenized through the cache
//   method: LoRA adapters injected (seeded), or every parameter (full_ft)
//   ranks:  one process, or the ranks torchrun / srun / mpirun started
//           (dist::launch_env), data parallel (docs/distributed.md)
//   run:    output_dir (results/{hf_model_id} by default) with config.yaml,
//           checkpoint-{step}/, final/ and logs/
#pragma once

#include <filesystem>
#include <string>

#include "finch/data/config.h"
#include "finch/dist/settings.h"
#include "finch/model/settings.h"
#include "finch/peft/lora.h"
#include "finch/train/settings.h"

namespace finch::train {

struct RunSettings {
  model::ModelSettings model;
  data::DataConfig data;
  TrainSettings train;
  peft::LoraSettings lora;
  dist::ParallelSettings parallel;
  std::string config_yaml;  // the resolved configuration, saved as output_dir/config.yaml
};

// The run folder the settings name.
std::filesystem::path run_dir(const RunSettings& settings);

// Every setting checked before any work starts: one-line errors naming the
// key. A dry run accepts what is estimated but not implemented yet (fsdp
// without activation checkpointing).
void validate_run(const RunSettings& settings, bool dry_run = false);

// Trains; SIGTERM and SIGINT save a checkpoint and return after the current step.
void run_training(const RunSettings& settings);

}  // namespace finch::train
