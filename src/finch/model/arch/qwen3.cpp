// Qwen3ForCausalLM: RMSNorm on each query and key head before rotary, an
// explicit head_dim (128 unless stated), optional attention biases.
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_qwen3(const JsonConfig& json) {
  DecoderConfig defaults;
  defaults.head_dim = 128;
  DecoderConfig c = read_common_config(json, defaults);
  c.qkv_bias = c.o_bias = json.get_bool("attention_bias", false);
  c.qk_norm = true;
  read_qwen_layer_types(json, c);
  return c;
}

}  // namespace finch::model::arch
