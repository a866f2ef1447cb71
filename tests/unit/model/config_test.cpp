#include "../test_util.h"
#include "finch/model/causal_lm.h"
#include "finch/model/modules/rotary.h"
#include "finch/model/registry.h"

namespace finch::model {
namespace {

nlohmann::json base(const std::string& arch) {
  return {{"architectures", {arch}}, {"vocab_size", 32},        {"hidden_size", 16}, {"intermediate_size", 24},
          {"num_hidden_layers", 2},  {"num_attention_heads", 4}, {"num_key_value_heads", 2}};
}

DecoderConfig read(const nlohmann::json& j) { return read_decoder_config(JsonConfig("config.json", j)); }

TEST(Registry, ReadsEachFamilysSpecifics) {
  EXPECT_EQ(read(base("LlamaForCausalLM")).head_dim, 4);
  auto qwen2 = read(base("Qwen2ForCausalLM"));
  EXPECT_TRUE(qwen2.qkv_bias);
  EXPECT_FALSE(qwen2.o_bias);
  auto qwen3 = read(base("Qwen3ForCausalLM"));
  EXPECT_TRUE(qwen3.qk_norm);
  EXPECT_EQ(qwen3.head_dim, 128);  // Qwen3's default when config.json leaves it out
  auto phi3 = read(base("Phi3ForCausalLM"));
  EXPECT_TRUE(phi3.fused_qkv && phi3.fused_gate_up);
  EXPECT_DOUBLE_EQ(phi3.rms_norm_eps, 1e-5);
  auto j = base("MistralForCausalLM");
  j["sliding_window"] = 8;
  auto mistral = read(j);
  EXPECT_EQ(mistral.sliding_window, 8);
  EXPECT_EQ(mistral.layer_types[1], LayerType::kSliding);
  j.erase("sliding_window");
  EXPECT_EQ(read(j).sliding_window, 4096) << "MistralConfig's default when the key is absent";
  j["sliding_window"] = nullptr;
  EXPECT_FALSE(read(j).sliding_window.has_value()) << "null means no window";
}

TEST(Registry, QwenSlidingLayersFollowMaxWindowLayers) {
  auto j = base("Qwen2ForCausalLM");
  j["use_sliding_window"] = true;
  j["sliding_window"] = 4;
  j["max_window_layers"] = 1;
  const auto c = read(j);
  EXPECT_EQ(c.layer_types[0], LayerType::kFull);
  EXPECT_EQ(c.layer_types[1], LayerType::kSliding);
}

TEST(Registry, ReadsOldAndNewRopeSpellings) {
  auto old_style = base("LlamaForCausalLM");
  old_style["rope_theta"] = 500000.0;
  old_style["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  auto c = read(old_style);
  EXPECT_EQ(c.rope.type, "linear");
  EXPECT_DOUBLE_EQ(c.rope.theta, 500000.0);
  auto new_style = base("LlamaForCausalLM");
  new_style["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 5e5}, {"factor", 8.0},
                                  {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                                  {"original_max_position_embeddings", 8192}};
  c = read(new_style);
  EXPECT_EQ(c.rope.type, "llama3");
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
}

TEST(Registry, UnsupportedInputsAreOneLineErrors) {
  test::expect_error([] { read(base("GPT2LMHeadModel")); },
                     {"'GPT2LMHeadModel' is not supported", "LlamaForCausalLM", "Phi3ForCausalLM"});
  auto j = base("LlamaForCausalLM");
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  test::expect_error([&] { read(j); }, {"rope type 'yarn' is not supported"});
  j = base("LlamaForCausalLM");
  j["hidden_act"] = "gelu";
  test::expect_error([&] { read(j); }, {"'hidden_act'", "gelu"});
  j = base("LlamaForCausalLM");
  j["num_key_value_heads"] = 3;
  test::expect_error([&] { read(j); }, {"cannot be grouped"});
  j = base("LlamaForCausalLM");
  j.erase("hidden_size");
  test::expect_error([&] { read(j); }, {"'hidden_size'", "required"});
}

TEST(Rotary, Llama3ScalingKeepsHighFrequenciesAndDividesLowOnes) {
  RopeConfig rope;
  rope.type = "llama3";
  rope.theta = 500000;
  rope.factor = 8;
  rope.low_freq_factor = 1;
  rope.high_freq_factor = 4;
  rope.original_max_position_embeddings = 8192;
  RopeConfig plain = rope;
  plain.type = "default";
  const at::Tensor scaled = rope_inverse_frequencies(rope, 128), base_freq = rope_inverse_frequencies(plain, 128);
  EXPECT_FLOAT_EQ(scaled[0].item<float>(), base_freq[0].item<float>());
  EXPECT_FLOAT_EQ(scaled[63].item<float>(), base_freq[63].item<float>() / 8);
}

TEST(AttentionMasks, SlidingWindowAndPaddingCombine) {
  DecoderConfig c = read(base("MistralForCausalLM"));
  c.sliding_window = 2;
  c.layer_types.assign(2, LayerType::kSliding);
  const at::Tensor mask = at::tensor({0, 1, 1, 1}, at::kLong).unsqueeze(0);
  const auto masks = build_attention_masks(mask, 4, c, at::kCPU);
  // Row q may see key k when k <= q, q - k < 2 and k is a real token; a padding
  // row sees itself only.
  const at::Tensor expected = at::tensor({1, 0, 0, 0,  //
                                          0, 1, 0, 0,  //
                                          0, 1, 1, 0,  //
                                          0, 0, 1, 1}, at::kLong).to(at::kBool).reshape({1, 1, 4, 4});
  EXPECT_TRUE(at::equal(masks.sliding, expected)) << masks.sliding;
  // Without padding and within the window, attention is plain causal.
  const auto none = build_attention_masks(at::ones({1, 2}, at::kLong), 2, c, at::kCPU);
  EXPECT_FALSE(none.full.defined());
  EXPECT_FALSE(none.sliding.defined());
}

TEST(AttentionMasks, RestartingPositionsSeparatePackedSamples) {
  DecoderConfig c = read(base("MistralForCausalLM"));
  c.sliding_window = 2;
  c.layer_types = {LayerType::kFull, LayerType::kSliding};
  // Samples of 3 and 2 tokens packed in one row, as DataCollatorWithFlattening makes them.
  const at::Tensor positions = at::tensor({0, 1, 2, 0, 1}, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::equal(packed_sequence_indices(positions), at::tensor({0, 0, 0, 1, 1}, at::kLong).unsqueeze(0)));
  const auto masks = build_attention_masks({}, 5, c, at::kCPU, positions);
  const at::Tensor full = at::tensor({1, 0, 0, 0, 0,  //
                                      1, 1, 0, 0, 0,  //
                                      1, 1, 1, 0, 0,  //
                                      0, 0, 0, 1, 0,  //
                                      0, 0, 0, 1, 1}, at::kLong).to(at::kBool).reshape({1, 1, 5, 5});
  EXPECT_TRUE(at::equal(masks.full, full)) << masks.full;
  const at::Tensor sliding = at::logical_and(full, at::tensor({1, 0, 0, 0, 0,  //
                                                                1, 1, 0, 0, 0,  //
                                                                0, 1, 1, 0, 0,  //
                                                                0, 0, 1, 1, 0,  //
                                                                0, 0, 0, 1, 1}, at::kLong).to(at::kBool).reshape({1, 1, 5, 5}));
  EXPECT_TRUE(at::equal(masks.sliding, sliding)) << masks.sliding;
  // Counting positions (any offset) are one sample; with an attention_mask, HF never looks at positions.
  EXPECT_FALSE(packed_sequence_indices(at::arange(3, 8).unsqueeze(0)).defined());
  EXPECT_FALSE(build_attention_masks(at::ones({1, 5}, at::kLong), 5, c, at::kCPU, positions).full.defined());
}

}  // namespace
}  // namespace finch::model
