// Packed and padded batches: the layouts by hand (DataCollatorWithFlattening's
// for packing), and the property that makes packing safe: on a tiny random
// model (fp32) the packed batch's loss equals the padded batch's to 1e-5,
// loss = sum of token cross entropy over all targets / number of targets.
#include <ATen/ATen.h>

#include "../test_util.h"
#include "finch/data/batches.h"
#include "finch/model/causal_lm.h"
#include "finch/model/registry.h"

namespace finch::data {
namespace {

using Longs = std::vector<int64_t>;

Longs values(const at::Tensor& t) {
  const at::Tensor c = t.contiguous().to(at::kLong);
  return Longs(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

std::vector<Sample> three_samples() {
  return {{{10, 11, 12}, {-100, -100, 12}}, {{20, 21}, {20, 21}}, {{30, 31, 32, 33}, {-100, 31, 32, 33}}};
}

TEST(Collate, PackedIsOneRowWithRestartingPositions) {
  const Batch b = collate(three_samples(), {});
  EXPECT_EQ(b.input_ids.sizes(), (std::vector<int64_t>{1, 9}));
  EXPECT_EQ(values(b.input_ids), (Longs{10, 11, 12, 20, 21, 30, 31, 32, 33}));
  EXPECT_EQ(values(b.position_ids), (Longs{0, 1, 2, 0, 1, 0, 1, 2, 3}));
  // Every sample's first label becomes -100: no loss across a boundary.
  EXPECT_EQ(values(b.labels), (Longs{-100, -100, 12, -100, 21, -100, 31, 32, 33}));
  EXPECT_FALSE(b.attention_mask.defined());
  EXPECT_EQ(b.num_targets, 5);
  EXPECT_EQ(b.num_samples, 3);
}

TEST(Collate, PaddedRightPadsWithThePadId) {
  const Batch b = collate(three_samples(), {false, 99});
  EXPECT_EQ(b.input_ids.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(values(b.input_ids), (Longs{10, 11, 12, 99, 20, 21, 99, 99, 30, 31, 32, 33}));
  EXPECT_EQ(values(b.labels), (Longs{-100, -100, 12, -100, 20, 21, -100, -100, -100, 31, 32, 33}));
  EXPECT_EQ(values(b.attention_mask), (Longs{1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1}));
  EXPECT_EQ(values(b.position_ids), (Longs{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(b.num_targets, 5);  // labels[:, 1:]; the 20 at position 0 is never predicted
}

TEST(Collate, PackedLossEqualsPaddedLossOnATinyModel) {
  // Mistral with a sliding window shorter than the samples: full and sliding
  // layers both must keep attention inside each packed sample.
  for (const char* arch : {"LlamaForCausalLM", "MistralForCausalLM"}) {
    SCOPED_TRACE(arch);
    nlohmann::json j = {{"architectures", {arch}}, {"vocab_size", 50}, {"hidden_size", 32},
                        {"intermediate_size", 48}, {"num_hidden_layers", 2}, {"num_attention_heads", 4},
                        {"num_key_value_heads", 2}};
    if (std::string(arch) == "MistralForCausalLM") j["sliding_window"] = 3;
    torch::manual_seed(0);
    model::CausalLM lm(model::read_decoder_config(JsonConfig("config.json", j)), at::TensorOptions());
    at::NoGradGuard no_grad;
    for (auto& p : lm->parameters()) p.normal_(0, 0.3);
    std::vector<Sample> samples;
    for (int64_t n : {6, 9, 4, 7}) {
      Sample s;
      for (int64_t i = 0; i < n; ++i) s.input_ids.push_back(1 + (n * 7 + i * 13) % 49);
      s.labels = s.input_ids;
      for (int64_t i = 0; i < n / 2; ++i) s.labels[static_cast<std::size_t>(i)] = kIgnoreIndex;  // a prompt span
      samples.push_back(s);
    }
    const Batch packed = collate(samples, {true, 0});
    const Batch padded = collate(samples, {false, 0});
    EXPECT_EQ(packed.num_targets, padded.num_targets);
    const at::Tensor packed_logits = lm->forward(packed.input_ids, {}, packed.position_ids);
    const at::Tensor padded_logits = lm->forward(padded.input_ids, padded.attention_mask, padded.position_ids);
    const double packed_loss = causal_lm_loss(packed_logits, packed.labels).item<double>();
    const double padded_loss = causal_lm_loss(padded_logits, padded.labels).item<double>();
    EXPECT_NEAR(packed_loss, padded_loss, 1e-5);
    EXPECT_GT(packed_loss, 1.0);  // the comparison means something
    // And without the block-diagonal mask it would not hold: positions alone do not separate samples.
    const at::Tensor leaky = lm->forward(packed.input_ids, at::ones_like(packed.input_ids), packed.position_ids);
    EXPECT_GT(std::abs(causal_lm_loss(leaky, packed.labels).item<double>() - padded_loss), 1e-4);
  }
}

TEST(Collate, LossIsTheMeanOverShiftedTargets) {
  // Uniform logits: every target costs log V.
  const at::Tensor logits = at::zeros({1, 4, 8});
  const at::Tensor labels = at::tensor(Longs{5, -100, 3, 2}, at::kLong).view({1, 4});
  EXPECT_NEAR(causal_lm_loss(logits, labels).item<double>(), std::log(8.0), 1e-6);
}

}  // namespace
}  // namespace finch::data
