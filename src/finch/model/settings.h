// Which model a command works on.
#pragma once

#include <string>

#include "finch/core/config.h"

namespace finch::model {

struct ModelSettings {
  std::string hf_model_id = "Qwen/Qwen3-8B";

  void describe(config::Registry& registry) {
    auto s = registry.section("model", "The model: a local Hugging Face directory or a Hub id.");
    s.add("hf_model_id", hf_model_id, "Hugging Face model id (downloaded into the Hub cache) or a local directory")
        .alias("hf_model_id");
  }
};

}  // namespace finch::model
