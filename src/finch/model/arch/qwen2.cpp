// Qwen2ForCausalLM: biases on q, k and v (never on o); optional sliding
// layers from max_window_layers on.
#include <algorithm>

#include "finch/core/error.h"
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

void read_qwen_layer_types(const JsonConfig& json, DecoderConfig& c) {
  const bool use_sliding = json.get_bool("use_sliding_window", false);
  if (use_sliding) c.sliding_window = read_sliding_window(json);
  const std::vector<std::string> names = json.get_strings("layer_types");
  if (!names.empty()) {
    if (static_cast<int64_t>(names.size()) != c.num_layers)
      fail("{}: {} entries for {} layers", json.where("layer_types"), names.size(), c.num_layers);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "full_attention") {
        c.layer_types[i] = LayerType::kFull;
      } else if (names[i] == "sliding_attention") {
        c.layer_types[i] = c.sliding_window ? LayerType::kSliding : LayerType::kFull;
      } else {
        fail("{}: '{}' is not full_attention or sliding_attention", json.where("layer_types"), names[i]);
      }
    }
    return;
  }
  if (!c.sliding_window) return;
  const int64_t first_sliding = std::max<int64_t>(0, json.get_int("max_window_layers", 28));
  for (int64_t i = first_sliding; i < c.num_layers; ++i) c.layer_types[i] = LayerType::kSliding;
}

DecoderConfig read_qwen2(const JsonConfig& json) {
  DecoderConfig c = read_common_config(json, DecoderConfig{});
  c.qkv_bias = true;
  read_qwen_layer_types(json, c);
  return c;
}

}  // namespace finch::model::arch
