// Phi3ForCausalLM: fused qkv_proj ([q; k; v] rows) and gate_up_proj
// ([gate; up] rows), partial rotary, optional sliding window on every layer.
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_phi3(const JsonConfig& json) {
  DecoderConfig defaults;
  defaults.rms_norm_eps = 1e-5;
  DecoderConfig c = read_common_config(json, defaults);
  c.fused_qkv = true;
  c.fused_gate_up = true;
  c.sliding_window = read_sliding_window(json);
  if (c.sliding_window) c.layer_types.assign(c.layer_types.size(), LayerType::kSliding);
  return c;
}

}  // namespace finch::model::arch
