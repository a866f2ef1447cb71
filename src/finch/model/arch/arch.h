// One reader per supported HF architecture: config.json -> DecoderConfig.
// Each says only what differs in its family; the modules are shared.
#pragma once

#include "finch/io/json_config.h"
#include "finch/model/decoder_config.h"

namespace finch::model::arch {

DecoderConfig read_llama(const JsonConfig& json);
DecoderConfig read_mistral(const JsonConfig& json);
DecoderConfig read_qwen2(const JsonConfig& json);
DecoderConfig read_qwen3(const JsonConfig& json);
DecoderConfig read_phi3(const JsonConfig& json);

// Qwen2 and Qwen3 name sliding layers in `layer_types`, or derive them from
// use_sliding_window / sliding_window / max_window_layers.
void read_qwen_layer_types(const JsonConfig& json, DecoderConfig& config);

}  // namespace finch::model::arch
