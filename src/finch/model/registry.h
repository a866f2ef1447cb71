// HF `architectures` string -> the reader of its config.json. Anything
// else is an error that lists what is supported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "finch/io/json_config.h"
#include "finch/model/decoder_config.h"

namespace finch::model {

struct Architecture {
  std::string_view hf_name;
  DecoderConfig (*read_config)(const JsonConfig& json);
};

const std::vector<Architecture>& supported_architectures();

// Reads config.json: its `architectures` entry picks the family.
DecoderConfig read_decoder_config(const JsonConfig& json);

}  // namespace finch::model
