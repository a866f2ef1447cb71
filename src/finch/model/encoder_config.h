// The hyper-parameters of a BERT-family encoder (BERT, RoBERTa, XLM-RoBERTa),
// read from an HF config.json by arch/bert.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "finch/io/json_config.h"

namespace finch::model {

struct EncoderConfig {
  enum class Family { kBert, kRoberta };  // RoBERTa: padding-aware position ids
  std::string architecture;
  Family family = Family::kBert;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;  // C
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;  // H
  int64_t max_position_embeddings = 0;
  int64_t type_vocab_size = 0;
  int64_t pad_token_id = 0;  // RoBERTa's padding_idx
  double layer_norm_eps = 1e-12;
  bool tanh_gelu = false;  // hidden_act gelu_new / gelu_pytorch_tanh instead of erf gelu
};

// config.json -> EncoderConfig: its `architectures` (else `model_type`) picks
// the family; anything else is an error listing what is supported.
EncoderConfig read_encoder_config(const JsonConfig& json);

}  // namespace finch::model
