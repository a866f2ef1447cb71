#include "finch/model/load.h"

#include "../test_util.h"
#include "finch/model/registry.h"

namespace finch::model {
namespace {

nlohmann::json tiny_config() {
  return {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 16}, {"hidden_size", 8},
          {"intermediate_size", 12}, {"num_hidden_layers", 1}, {"num_attention_heads", 2},
          {"num_key_value_heads", 1}, {"tie_word_embeddings", false}};
}

safetensors::NamedTensors random_weights(const nlohmann::json& config) {
  CausalLM lm(read_decoder_config(JsonConfig("config.json", config)), at::TensorOptions());
  safetensors::NamedTensors out;
  for (const auto& p : lm->named_parameters()) out.emplace_back(p.key(), at::randn(p.value().sizes()));
  return out;
}

void write_model(const std::filesystem::path& dir, const nlohmann::json& config,
                 const safetensors::NamedTensors& weights) {
  write_file_atomic(dir / "config.json", config.dump());
  safetensors::save_model_dir(dir, weights, 1 << 30);
}

TEST(Load, LoadsByHFNameAndKeepsTheValues) {
  test::TempDir dir;
  const auto weights = random_weights(tiny_config());
  write_model(dir.path(), tiny_config(), weights);
  CausalLM lm = load_causal_lm(dir.path());
  const auto params = lm->named_parameters();
  for (const auto& [name, t] : weights) EXPECT_TRUE(at::equal(params[name], t)) << name;
  LoadOptions bf16;
  bf16.dtype = at::kBFloat16;
  EXPECT_EQ(load_causal_lm(dir.path(), bf16)->model->norm->weight.scalar_type(), at::kBFloat16);
}

TEST(Load, MissingUnexpectedAndMisshapedTensorsAreListedInOneError) {
  test::TempDir dir;
  auto weights = random_weights(tiny_config());
  std::erase_if(weights, [](const auto& w) { return w.first == "model.norm.weight"; });
  weights.emplace_back("model.layers.0.extra.weight", at::zeros({2}));
  for (auto& [name, t] : weights)
    if (name == "lm_head.weight") t = at::zeros({16, 9});
  write_model(dir.path(), tiny_config(), weights);
  test::expect_error([&] { load_causal_lm(dir.path()); },
                     {dir.path().string(), "missing 1: model.norm.weight", "unexpected 1: model.layers.0.extra.weight",
                      "mis-shaped 1: lm_head.weight is [16, 9] (expected [16, 8])"});
}

TEST(Load, TiedEmbeddingsNeedNoLmHead) {
  test::TempDir dir;
  auto config = tiny_config();
  config["tie_word_embeddings"] = true;
  const auto weights = random_weights(config);
  write_model(dir.path(), config, weights);
  CausalLM lm = load_causal_lm(dir.path());
  EXPECT_FALSE(lm->lm_head);
  const at::Tensor ids = at::tensor({1, 2, 3}, at::kLong).unsqueeze(0);
  c10::InferenceMode guard;
  const at::Tensor logits = lm->forward(ids);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 3, 16}));
}

}  // namespace
}  // namespace finch::model
