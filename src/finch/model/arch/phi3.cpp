// Phi3ForCausalLM: fused qkv_proj ([q; k; v] rows) and gate_up_proj
// ([gate; up] rows), partial rotary, optional sliding window on every layer.
#include "finch/core/error.h"
#include "finch/model/arch/arch.h"

namespace finch::model::arch {

DecoderConfig read_phi3(const JsonConfig& json) {
  DecoderConfig defaults;
  defaults.rms_norm_eps = 1e-5;
  DecoderConfig c = read_common_config(json, defaults);
  c.fused_qkv = true;
  c.fused_gate_up = true;
  if (json.has("sliding_window")) {
    c.sliding_window = json.get_int("sliding_window");
    if (*c.sliding_window <= 0) fail("{}: must be a positive integer", json.where("sliding_window"));
    c.layer_types.assign(c.layer_types.size(), LayerType::kSliding);
  }
  return c;
}

}  // namespace finch::model::arch
