// Greedy generation parity with transformers' generate (references from
// gen/make_generate_cases.py): tiny random models of every family and
// SmolLM2-135M, fp32 on the CPU, a left-padded batch of prompts of mixed
// lengths, 64 new tokens.
//
// Bar: every row's tokens equal transformers'. A row may differ only at a
// near-tie: at its first differing step the reference's top-2 logit gap is
// under 1e-4 (rounding may then flip the argmax, and the rest of the row
// legitimately differs). The test checks that, and prints how many rows
// matched exactly.
//
// Sampling: warp_logits equals transformers' warpers (same tokens filtered to
// -inf, the rest within 1e-6), and next_tokens draws torch.multinomial's
// tokens from the same probabilities and seed, exactly.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finch/infer/generate.h"
#include "finch/io/safetensors.h"
#include "finch/model/load.h"

namespace finch::infer {
namespace {

constexpr double kNearTie = 1e-4;

class GenerateParity : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerateParity, GreedyMatchesTransformers) {
  const std::filesystem::path file = std::filesystem::path(FINCH_PARITY_DIR) / "generate" / (GetParam() + ".json");
  ASSERT_TRUE(std::filesystem::exists(file)) << file << ": no references; run through ctest";
  std::ifstream in(file);
  const auto ref = nlohmann::json::parse(in);
  model::CausalLM lm = model::load_causal_lm(ref["model"].get<std::string>());

  GenerationSettings settings;
  settings.max_new_tokens = ref["max_new_tokens"].get<int64_t>();
  settings.eos_token_ids = ref["eos"].get<std::vector<int32_t>>();
  const auto prompts = ref["prompts"].get<std::vector<std::vector<int32_t>>>();
  const auto expected = ref["tokens"].get<std::vector<std::vector<int32_t>>>();
  const auto gaps = ref["gaps"].get<std::vector<std::vector<double>>>();
  const auto got = generate(*lm, nullptr, prompts, settings);

  ASSERT_EQ(got.size(), prompts.size());
  int exact = 0;
  for (size_t r = 0; r < prompts.size(); ++r) {
    const auto& want = expected[r];
    const auto& have = got[r].tokens;
    size_t i = 0;
    while (i < want.size() && i < have.size() && want[i] == have[i]) ++i;
    if (i == want.size() && i == have.size()) {
      ++exact;
      continue;
    }
    ASSERT_LT(i, want.size()) << "row " << r << ": finch went on after transformers stopped at step " << i;
    ASSERT_LT(i, have.size()) << "row " << r << ": finch stopped at step " << i << ", transformers went on";
    EXPECT_LT(gaps[r][i], kNearTie) << "row " << r << " step " << i << ": token " << have[i] << " instead of "
                                    << want[i] << " where transformers' top-2 gap is " << gaps[r][i];
  }
  std::cout << GetParam() << ": " << exact << "/" << prompts.size() << " rows identical\n";
  // EOS ends a row with its reason; the others ran to the limit.
  for (size_t r = 0; r < got.size(); ++r) {
    const bool eos = !got[r].tokens.empty() && got[r].tokens.back() == settings.eos_token_ids.front();
    EXPECT_EQ(got[r].finish_reason, eos ? FinishReason::kEos : FinishReason::kLength) << "row " << r;
    if (!eos) EXPECT_EQ(static_cast<int64_t>(got[r].tokens.size()), settings.max_new_tokens) << "row " << r;
  }
}

TEST(SamplingParity, WarpersAndDrawsMatchTransformers) {
  const std::filesystem::path dir = std::filesystem::path(FINCH_PARITY_DIR) / "generate";
  ASSERT_TRUE(std::filesystem::exists(dir / "sampling.json")) << "no references; run through ctest";
  std::ifstream in(dir / "sampling.json");
  const auto ref = nlohmann::json::parse(in);
  const auto store = safetensors::TensorStore::open_file(dir / "sampling.safetensors");
  const at::Tensor logits = store.get("logits");
  for (size_t i = 0; i < ref["settings"].size(); ++i) {
    const auto& c = ref["settings"][i];
    SamplingSettings s{true, c["temperature"].get<double>(), c["top_k"].get<int64_t>(), c["top_p"].get<double>()};
    const at::Tensor want = store.get("warped." + std::to_string(i));
    const at::Tensor got = warp_logits(logits, s);
    EXPECT_TRUE(at::equal(at::isinf(got), at::isinf(want))) << "setting " << i << ": other tokens filtered";
    const at::Tensor finite = at::isfinite(want);
    EXPECT_LE((got.masked_select(finite) - want.masked_select(finite)).abs().max().item<double>(), 1e-6)
        << "setting " << i;
  }
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(ref["seed"].get<uint64_t>());
  const at::Tensor draws = store.get("draws");
  for (int64_t r = 0; r < draws.size(0); ++r)
    ASSERT_TRUE(at::equal(next_tokens(logits, SamplingSettings{true, 1.0, 0, 1.0}, gen), draws[r])) << "draw " << r;
}

INSTANTIATE_TEST_SUITE_P(HF, GenerateParity,
                         ::testing::Values("llama3", "llama_tied", "mistral", "qwen2", "qwen3", "phi3", "smollm2"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace finch::infer
