#include "finch/model/decoder_config.h"

#include "finch/core/error.h"

namespace finch::model {
namespace {

// transformers >= 5 writes `rope_parameters` {rope_type, rope_theta, ...};
// older configs (and most on the Hub) write `rope_theta` and `rope_scaling`
// {type | rope_type, factor, ...}. Both mean the same.
RopeConfig read_rope(const JsonConfig& json, const RopeConfig& defaults) {
  RopeConfig rope = defaults;
  rope.theta = json.get_float("rope_theta", defaults.theta);
  rope.partial_rotary_factor = json.get_float("partial_rotary_factor", defaults.partial_rotary_factor);
  std::optional<JsonConfig> params = json.get_object("rope_parameters");
  std::string key = "rope_parameters";
  if (!params) {
    params = json.get_object("rope_scaling");
    key = "rope_scaling";
  }
  if (!params) return rope;
  rope.theta = params->get_float("rope_theta", rope.theta);
  rope.partial_rotary_factor = params->get_float("partial_rotary_factor", rope.partial_rotary_factor);
  rope.type = params->get_string("rope_type", params->get_string("type", "default"));
  if (rope.type == "default") return rope;
  if (rope.type == "linear") {
    rope.factor = params->get_float("factor");
  } else if (rope.type == "llama3") {
    rope.factor = params->get_float("factor");
    rope.low_freq_factor = params->get_float("low_freq_factor");
    rope.high_freq_factor = params->get_float("high_freq_factor");
    rope.original_max_position_embeddings = params->get_int("original_max_position_embeddings");
    if (rope.high_freq_factor <= rope.low_freq_factor)
      fail("{}: high_freq_factor must exceed low_freq_factor", json.where(key));
  } else {
    fail("{}: rope type '{}' is not supported (supported: default, linear, llama3)", json.where(key), rope.type);
  }
  if (rope.factor <= 0) fail("{}: factor must be positive", json.where(key));
  return rope;
}

}  // namespace

DecoderConfig read_common_config(const JsonConfig& json, const DecoderConfig& defaults) {
  DecoderConfig c = defaults;
  c.vocab_size = json.get_int("vocab_size");
  c.hidden_size = json.get_int("hidden_size");
  c.intermediate_size = json.get_int("intermediate_size");
  c.num_layers = json.get_int("num_hidden_layers");
  c.num_heads = json.get_int("num_attention_heads");
  c.num_kv_heads = json.get_int("num_key_value_heads", c.num_heads);
  for (const char* key : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                          "num_attention_heads", "num_key_value_heads"})
    if (json.has(key) && json.get_int(key) <= 0) fail("{}: must be a positive integer", json.where(key));
  const int64_t derived_head_dim = c.hidden_size / c.num_heads;
  c.head_dim = json.get_int("head_dim", defaults.head_dim > 0 ? defaults.head_dim : derived_head_dim);
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) fail("{}: must be a positive even integer", json.where("head_dim"));
  if (c.num_heads % c.num_kv_heads != 0)
    fail("{}: {} attention heads cannot be grouped over {} key/value heads", json.where("num_key_value_heads"),
         c.num_heads, c.num_kv_heads);
  c.rms_norm_eps = json.get_float("rms_norm_eps", defaults.rms_norm_eps);
  c.tie_word_embeddings = json.get_bool("tie_word_embeddings", defaults.tie_word_embeddings);
  const std::string act = json.get_string("hidden_act", "silu");
  if (act != "silu") fail("{}: activation '{}' is not supported (supported: silu)", json.where("hidden_act"), act);
  c.rope = read_rope(json, defaults.rope);
  if (c.rope.partial_rotary_factor <= 0 || c.rope.partial_rotary_factor > 1)
    fail("{}: must be in (0, 1]", json.where("partial_rotary_factor"));
  c.layer_types.assign(static_cast<size_t>(c.num_layers), LayerType::kFull);
  return c;
}

std::optional<int64_t> read_sliding_window(const JsonConfig& json) {
  if (!json.has("sliding_window")) return std::nullopt;
  const int64_t window = json.get_int("sliding_window");
  if (window <= 0) fail("{}: must be a positive integer", json.where("sliding_window"));
  return window;
}

}  // namespace finch::model
