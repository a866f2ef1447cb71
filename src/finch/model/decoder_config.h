// The hyper-parameters of a decoder-only transformer, read from an HF
// config.json by the architecture files in arch/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "finch/io/json_config.h"

namespace finch::model {

struct RopeConfig {
  std::string type = "default";  // default | linear | llama3
  double theta = 10000.0;
  double factor = 1.0;                       // linear, llama3
  double low_freq_factor = 1.0;              // llama3
  double high_freq_factor = 4.0;             // llama3
  int64_t original_max_position_embeddings = 0;  // llama3
  double partial_rotary_factor = 1.0;        // rotate only this fraction of each head
};

enum class LayerType { kFull, kSliding };

struct DecoderConfig {
  std::string architecture;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;        // C
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;          // H
  int64_t num_kv_heads = 0;       // K
  int64_t head_dim = 0;           // D
  double rms_norm_eps = 1e-6;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  bool qk_norm = false;           // RMSNorm on each head of q and k before rotary (Qwen3)
  bool fused_qkv = false;         // one qkv_proj (Phi3)
  bool fused_gate_up = false;     // one gate_up_proj (Phi3)
  std::optional<int64_t> sliding_window;
  std::vector<LayerType> layer_types;  // one per layer
};

// Reads what every supported family shares. `defaults` carries the family's
// own defaults for keys a config.json may leave out.
DecoderConfig read_common_config(const JsonConfig& json, const DecoderConfig& defaults);

// `sliding_window`: a positive integer, or absent / null for none.
std::optional<int64_t> read_sliding_window(const JsonConfig& json);

}  // namespace finch::model
