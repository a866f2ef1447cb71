// MistralForCausalLM: Llama's block without biases; every layer attends
// within `sliding_window` tokens when it is set.
#include "finch/core/error.h"
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_mistral(const JsonConfig& json) {
  DecoderConfig c = read_common_config(json, DecoderConfig{});
  if (json.has("sliding_window")) {
    c.sliding_window = json.get_int("sliding_window");
    if (*c.sliding_window <= 0) fail("{}: must be a positive integer", json.where("sliding_window"));
    c.layer_types.assign(c.layer_types.size(), LayerType::kSliding);
  }
  return c;
}

}  // namespace finch::model::arch
