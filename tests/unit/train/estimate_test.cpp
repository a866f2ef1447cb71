// The --dry-run arithmetic on a config small enough to count by hand:
// C 4, I 6, L 2, H 2, K 1, D 2, V 10, untied.
#include "finch/train/estimate.h"

#include "../test_util.h"

namespace finch::train {
namespace {

model::DecoderConfig tiny() {
  model::DecoderConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 10;
  c.hidden_size = 4;
  c.intermediate_size = 6;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 2;
  c.layer_types.assign(2, model::LayerType::kFull);
  return c;
}

double line(const std::vector<MemoryLine>& lines, const std::string& name) {
  for (const auto& l : lines)
    if (l.name == name) return l.bytes;
  ADD_FAILURE() << "no line " << name;
  return -1;
}

TEST(Estimate, CountsByHand) {
  peft::LoraSettings lora;
  lora.rank = 2;
  lora.target_modules = {"q_proj", "v_proj"};
  const ParameterCounts n = count_parameters(tiny(), lora, false);
  // embed 40; a layer: q 16, k 8, v 8, o 16, gate 24, up 24, down 24, two norms 8 = 128; norm 4; lm_head 40.
  EXPECT_EQ(n.base, 40 + 2 * 128 + 4 + 40);
  EXPECT_EQ(n.root, 84);
  EXPECT_EQ(n.largest_layer, 128);
  EXPECT_EQ(n.linear_weights, 2 * 120 + 40);
  // q: 2 * (4 + 4), v: 2 * (4 + 2), in each of two layers.
  EXPECT_EQ(n.adapter, 2 * (16 + 12));
  EXPECT_EQ(n.trainable, n.adapter);
  EXPECT_EQ(n.total, 340 + 56);
  EXPECT_EQ(n.adapted_layers, 4);
  EXPECT_EQ(n.adapted_in_features, 16);
  const ParameterCounts full = count_parameters(tiny(), lora, true);
  EXPECT_EQ(full.trainable, 340);
  EXPECT_EQ(full.total, 340);
  model::DecoderConfig tied = tiny();
  tied.tie_word_embeddings = true;
  EXPECT_EQ(count_parameters(tied, lora, true).base, 300);
}

TEST(Estimate, UnknownTargetIsTheInjectError) {
  peft::LoraSettings lora;
  lora.target_modules = {"c_attn"};
  test::expect_error([&] { count_parameters(tiny(), lora, false); }, {"lora.target_modules: 'c_attn'", "q_proj"});
}

TEST(Estimate, LoraBf16Checkpointed) {
  peft::LoraSettings lora;
  lora.rank = 2;
  lora.target_modules = {"q_proj", "v_proj"};
  MemoryInputs in;
  in.config = tiny();
  in.counts = count_parameters(in.config, lora, false);
  in.micro_batch = 3;
  in.seq_len = 5;
  in.lora_rank = 2;
  in.lora_dropout = 0.1;
  // 4C + 3HD + 3KD + 4I = 58, + 4 adapters x r 2 / 2 layers = 4, + dropped inputs 16 / 2 layers = 8.
  EXPECT_EQ(layer_activation_elements(in), 70);
  const MemoryEstimate e = estimate_memory(in);
  EXPECT_EQ(line(e.device, "weights"), 340 * 2 + 56 * 4);
  EXPECT_EQ(line(e.device, "gradients"), 56 * 4);
  EXPECT_EQ(line(e.device, "optimizer"), 56 * 8);
  EXPECT_EQ(line(e.device, "autocast copies"), 56 * 2);
  EXPECT_EQ(line(e.device, "activations"), 15 * (2 * 4 + 70) * 2);  // 15 tokens: L hidden states + one layer
  EXPECT_EQ(line(e.device, "logits"), 15 * 10 * 4);
  EXPECT_EQ(e.device_total, 904 + 224 + 448 + 112 + 2340 + 600);
  EXPECT_TRUE(e.host.empty());
}

TEST(Estimate, FullFsdpShardsAndOffloads) {
  MemoryInputs in;
  in.config = tiny();
  in.counts = count_parameters(in.config, {}, true);
  in.full_ft = true;
  in.bf16 = false;
  in.micro_batch = 3;
  in.seq_len = 5;
  in.activation_checkpointing = false;
  in.strategy = "fsdp";
  in.world = 2;
  MemoryEstimate e = estimate_memory(in);
  EXPECT_EQ(line(e.device, "weights"), 340 * 4 / 2);
  EXPECT_EQ(line(e.device, "gradients"), 340 * 4 / 2);
  EXPECT_EQ(line(e.device, "optimizer"), 340 * 8 / 2);
  EXPECT_EQ(line(e.device, "gathered params"), (84 + 2 * 128) * 4);  // root + two layers, fp32
  EXPECT_EQ(line(e.device, "activations"), 15 * 2 * 58 * 4);
  EXPECT_EQ(e.device_total, 680 + 680 + 1360 + 1360 + 6960 + 600);
  in.offload_params = true;
  e = estimate_memory(in);
  EXPECT_EQ(e.host_total, 680 + 680 + 1360);
  EXPECT_EQ(e.device_total, 1360 + 6960 + 600);
}

TEST(Estimate, Commas) {
  EXPECT_EQ(commas(0), "0");
  EXPECT_EQ(commas(999), "999");
  EXPECT_EQ(commas(1000), "1,000");
  EXPECT_EQ(commas(8190735360), "8,190,735,360");
}

}  // namespace
}  // namespace finch::train
