#include "finch/model/save.h"

#include <nlohmann/json.hpp>

#include "../test_util.h"
#include "finch/core/files.h"
#include "finch/io/json_config.h"
#include "finch/io/safetensors.h"
#include "finch/model/load.h"
#include "finch/model/registry.h"

namespace finch::model {
namespace {

nlohmann::json tiny_config(bool tied) {
  return {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 16}, {"hidden_size", 8},
          {"intermediate_size", 12}, {"num_hidden_layers", 1}, {"num_attention_heads", 2},
          {"num_key_value_heads", 1}, {"tie_word_embeddings", tied}, {"torch_dtype", "float32"},
          {"bos_token_id", 1}, {"eos_token_id", {2, 3}}, {"pad_token_id", nullptr},
          {"transformers_version", "5.23.0"}};
}

TEST(Save, WritesAFolderLoadReadsBackWithoutATiedHead) {
  test::TempDir dir;
  write_file_atomic(dir / "config.json", tiny_config(/*tied=*/true).dump());
  write_file_atomic(dir / "tokenizer.json", "{}");
  CausalLM lm(read_decoder_config(JsonConfig("config.json", tiny_config(true))), at::TensorOptions());
  for (auto& p : lm->parameters()) p.data().normal_();
  SaveOptions options;
  options.dtype = at::kBFloat16;
  options.config_json = dir / "config.json";
  options.copy_files = {dir / "tokenizer.json"};
  const std::map<std::string, at::Tensor> before = [&] {
    std::map<std::string, at::Tensor> m;
    for (const auto& [name, t] : model_state(lm)) m[name] = t.clone();
    return m;
  }();
  const SavedModel saved = save_pretrained(lm, dir / "out", options);
  EXPECT_EQ(saved.weight_files, (std::vector<std::string>{"model.safetensors"}));
  const auto store = safetensors::TensorStore::open_model_dir(dir / "out");
  EXPECT_FALSE(store.contains("lm_head.weight")) << "a tied lm_head is not stored";
  for (const auto& [name, t] : before) EXPECT_TRUE(at::equal(store.get(name), t.to(at::kBFloat16))) << name;
  const auto config = read_json_file(dir / "out/config.json");
  EXPECT_EQ(config["dtype"], "bfloat16");
  EXPECT_EQ(config["torch_dtype"], "bfloat16") << "kept consistent where present";
  EXPECT_TRUE(std::filesystem::exists(dir / "out/tokenizer.json"));
  CausalLM back = load_causal_lm(dir / "out");
  EXPECT_EQ(back->model->embed_tokens->weight.scalar_type(), at::kFloat);
  // No temporary folder is left beside it.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_NE(entry.path().filename().string().rfind(".partial-", 0), 0u) << entry.path();
}

TEST(Save, GenerationConfigFromTheModelConfigAsTransformersMakesIt) {
  test::TempDir dir;
  write_file_atomic(dir / "config.json", tiny_config(false).dump());
  const auto made = nlohmann::json::parse(generation_config_from(dir / "config.json"));
  // transformers 5.23: GenerationConfig.from_model_config(config).to_json_string(use_diff=True)
  const nlohmann::json expected = {{"_from_model_config", true}, {"bos_token_id", 1}, {"eos_token_id", {2, 3}},
                                   {"output_attentions", false}, {"output_hidden_states", false},
                                   {"transformers_version", "5.23.0"}, {"use_cache", true}};
  EXPECT_EQ(made, expected);
}

}  // namespace
}  // namespace finch::model
