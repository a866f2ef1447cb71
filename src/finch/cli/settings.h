// Every command reads the same typed configuration (see core/config.h): the
// sections of each library, layered from their defaults, a YAML file given
// with --config, then --section.key flags and the seed tools' aliases.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "finch/core/config.h"
#include "finch/data/config.h"
#include "finch/model/settings.h"
#include "finch/peft/lora.h"
#include "finch/train/parallel_settings.h"
#include "finch/train/settings.h"

namespace finch::cli {

struct Settings {
  model::ModelSettings model;
  data::DataConfig data;
  train::TrainSettings train;
  peft::LoraSettings lora;
  train::ParallelSettings parallel;
  config::Registry registry;

  Settings() {
    model.describe(registry);
    data.describe(registry);
    train.describe(registry);
    lora.describe(registry);
    parallel.describe(registry);
  }
  Settings(const Settings&) = delete;
  Settings& operator=(const Settings&) = delete;
};

// Adds --config and one flag per setting to `command`; resolve() then applies
// the file and the flags (in command-line order) and prints the result.
class SettingsFlags {
 public:
  SettingsFlags(CLI::App& command, Settings& settings);
  void resolve();

 private:
  Settings& settings_;
  std::string config_file_;
  std::vector<std::tuple<std::string, std::string, std::string>> flags_;  // key, value, flag as written
};

}  // namespace finch::cli
