// LlamaForCausalLM: Llama 2, 3, 3.1, 3.2 (and SmolLM). Optional biases on
// attention and MLP projections; rope scaling `linear` or `llama3`.
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_llama(const JsonConfig& json) {
  DecoderConfig c = read_common_config(json, DecoderConfig{});
  c.qkv_bias = c.o_bias = json.get_bool("attention_bias", false);
  c.mlp_bias = json.get_bool("mlp_bias", false);
  return c;
}

}  // namespace finch::model::arch
