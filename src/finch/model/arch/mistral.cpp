// MistralForCausalLM: Llama's block without biases; every layer attends
// within `sliding_window` tokens (4096 when the key is absent, none when null,
// as MistralConfig reads it).
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_mistral(const JsonConfig& json) {
  DecoderConfig c = read_common_config(json, DecoderConfig{});
  c.sliding_window = json.contains("sliding_window") ? read_sliding_window(json) : std::optional<int64_t>(4096);
  if (c.sliding_window) c.layer_types.assign(c.layer_types.size(), LayerType::kSliding);
  return c;
}

}  // namespace finch::model::arch
