#include "finch/model/forward_probe.h"

#include "../test_util.h"
#include "finch/model/registry.h"

namespace finch::model {
namespace {

TEST(ProbeRows, BadLinesNameTheFileLineAndFault) {
  test::TempDir dir;
  const auto path = dir / "ids.jsonl";
  auto check = [&](const std::string& line, const std::string& fault) {
    std::ofstream(path) << "{\"input_ids\": [1, 2]}\n" << line << "\n";
    test::expect_error([&] { read_probe_rows(path, 10); }, {path.string() + ":2", fault});
  };
  check("not json", "not a JSON object");
  check(R"({"input_ids": [1, 99]})", "token id 99 is outside the vocabulary [0, 10)");
  check(R"({"input_ids": [1, "a"]})", "'input_ids' must be a list of integers");
  check(R"({"input_ids": [1, 2], "attention_mask": [1]})", "'attention_mask' has 1 entries for 2 input_ids");
  check(R"({"input_ids": [1, 2], "attention_mask": [1, 2]})", "expected 0 or 1");
  check(R"({"input_ids": []})", "'input_ids' is empty");
}

TEST(Probe, CountsOnlyPredictionsBetweenRealTokens) {
  // A model whose logits are all zero predicts every token with probability 1/V.
  const nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 8}, {"hidden_size", 4},
                            {"intermediate_size", 4}, {"num_hidden_layers", 1}, {"num_attention_heads", 1}};
  CausalLM lm(read_decoder_config(JsonConfig("config.json", j)), at::TensorOptions());
  for (auto& p : lm->parameters()) p.data().zero_();
  std::vector<ProbeRow> rows(2);
  rows[0].input_ids = {1, 2, 3, 4};
  rows[0].attention_mask = {0, 1, 1, 1};  // left padding: 2 predictions
  rows[1].input_ids = {5, 6};
  rows[1].attention_mask = {1, 1};  // 1 prediction, padded on the right inside the batch
  const auto result = run_probe(lm, rows, 2, at::kCPU);
  EXPECT_EQ(result.tokens, 3);
  EXPECT_NEAR(result.loss(), std::log(8.0), 1e-6);
  ASSERT_EQ(result.logits.size(), 2u);
  EXPECT_EQ(result.logits[1].sizes(), (std::vector<int64_t>{2, 8}));

  std::vector<ProbeRow> single(1);
  single[0].input_ids = {3};
  single[0].attention_mask = {1};
  const auto none = run_probe(lm, single, 1, at::kCPU);
  EXPECT_EQ(none.tokens, 0);
  EXPECT_TRUE(std::isnan(none.loss())) << "no prediction, no loss";
  EXPECT_EQ(none.logits[0].sizes(), (std::vector<int64_t>{1, 8}));
}

}  // namespace
}  // namespace finch::model
