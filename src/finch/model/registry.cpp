#include "finch/model/registry.h"

#include "finch/core/error.h"
#include "finch/model/arch/arch.h"

namespace finch::model {

const std::vector<Architecture>& supported_architectures() {
  static const std::vector<Architecture> table = {
      {"LlamaForCausalLM", arch::read_llama},
      {"MistralForCausalLM", arch::read_mistral},
      {"Qwen2ForCausalLM", arch::read_qwen2},
      {"Qwen3ForCausalLM", arch::read_qwen3},
      {"Phi3ForCausalLM", arch::read_phi3},
  };
  return table;
}

DecoderConfig read_decoder_config(const JsonConfig& json) {
  const std::vector<std::string> names = json.get_strings("architectures");
  std::string supported;
  for (const auto& a : supported_architectures()) supported += (supported.empty() ? "" : ", ") + std::string(a.hf_name);
  if (names.size() != 1)
    fail("{}: expected one architecture (supported: {})", json.where("architectures"), supported);
  for (const auto& a : supported_architectures()) {
    if (a.hf_name != names[0]) continue;
    DecoderConfig config = a.read_config(json);
    config.architecture = names[0];
    return config;
  }
  fail("{}: architecture '{}' is not supported (supported: {})", json.where("architectures"), names[0], supported);
}

}  // namespace finch::model
