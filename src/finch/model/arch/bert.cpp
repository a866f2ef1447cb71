// BERT-family encoders: BertModel / BertForMaskedLM, RobertaModel /
// RobertaForMaskedLM, XLMRobertaModel / XLMRobertaForMaskedLM. Absolute
// positions only; RoBERTa's are counted from padding_idx + 1 over real tokens.
#include "finch/core/error.h"
#include "finch/model/encoder_config.h"

namespace finch::model {
namespace {

struct EncoderArch {
  const char* hf_name;
  EncoderConfig::Family family;
};

constexpr EncoderArch kArchitectures[] = {
    {"BertModel", EncoderConfig::Family::kBert},
    {"BertForMaskedLM", EncoderConfig::Family::kBert},
    {"BertForPreTraining", EncoderConfig::Family::kBert},
    {"RobertaModel", EncoderConfig::Family::kRoberta},
    {"RobertaForMaskedLM", EncoderConfig::Family::kRoberta},
    {"XLMRobertaModel", EncoderConfig::Family::kRoberta},
    {"XLMRobertaForMaskedLM", EncoderConfig::Family::kRoberta},
};

// config.json files without `architectures` still name their `model_type`.
constexpr EncoderArch kModelTypes[] = {
    {"bert", EncoderConfig::Family::kBert},
    {"roberta", EncoderConfig::Family::kRoberta},
    {"xlm-roberta", EncoderConfig::Family::kRoberta},
};

}  // namespace

EncoderConfig read_encoder_config(const JsonConfig& json) {
  std::string supported;
  for (const auto& a : kArchitectures) supported += (supported.empty() ? "" : ", ") + std::string(a.hf_name);
  EncoderConfig c;
  const std::vector<std::string> names = json.get_strings("architectures");
  bool found = false;
  if (names.size() == 1) {
    for (const auto& a : kArchitectures)
      if (names[0] == a.hf_name) c.family = a.family, c.architecture = names[0], found = true;
    if (!found)
      fail("{}: architecture '{}' is not a supported encoder (supported: {})", json.where("architectures"), names[0],
           supported);
  } else if (names.empty() && json.has("model_type")) {
    const std::string type = json.get_string("model_type");
    for (const auto& a : kModelTypes)
      if (type == a.hf_name) c.family = a.family, c.architecture = type, found = true;
    if (!found) fail("{}: model type '{}' is not a supported encoder (supported: bert, roberta, xlm-roberta)",
                     json.where("model_type"), type);
  } else {
    fail("{}: expected one architecture (supported encoders: {})", json.where("architectures"), supported);
  }
  c.vocab_size = json.get_int("vocab_size");
  c.hidden_size = json.get_int("hidden_size");
  c.intermediate_size = json.get_int("intermediate_size");
  c.num_layers = json.get_int("num_hidden_layers");
  c.num_heads = json.get_int("num_attention_heads");
  c.max_position_embeddings = json.get_int("max_position_embeddings");
  c.type_vocab_size = json.get_int("type_vocab_size", 2);
  for (const char* key : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                          "num_attention_heads", "max_position_embeddings", "type_vocab_size"})
    if (json.has(key) && json.get_int(key) <= 0) fail("{}: must be a positive integer", json.where(key));
  if (c.hidden_size % c.num_heads != 0)
    fail("{}: {} does not divide hidden_size {}", json.where("num_attention_heads"), c.num_heads, c.hidden_size);
  c.pad_token_id = json.get_int("pad_token_id", c.family == EncoderConfig::Family::kRoberta ? 1 : 0);
  c.layer_norm_eps = json.get_float("layer_norm_eps", 1e-12);
  const std::string act = json.get_string("hidden_act", "gelu");
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") {
    c.tanh_gelu = true;
  } else if (act != "gelu") {
    fail("{}: activation '{}' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh)",
         json.where("hidden_act"), act);
  }
  const std::string positions = json.get_string("position_embedding_type", "absolute");
  if (positions != "absolute")
    fail("{}: '{}' is not supported (supported: absolute)", json.where("position_embedding_type"), positions);
  if (json.get_bool("is_decoder", false)) fail("{}: decoder BERT models are not supported", json.where("is_decoder"));
  return c;
}

}  // namespace finch::model
