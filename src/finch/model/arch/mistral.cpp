// MistralForCausalLM: Llama's block without biases; every layer attends
// within `sliding_window` tokens when it is set.
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_mistral(const JsonConfig& json) {
  DecoderConfig c = read_common_config(json, DecoderConfig{});
  c.sliding_window = read_sliding_window(json);
  if (c.sliding_window) c.layer_types.assign(c.layer_types.size(), LayerType::kSliding);
  return c;
}

}  // namespace finch::model::arch
