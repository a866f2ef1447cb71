// Forward parity with transformers on tiny random models of every supported
// architecture (references from gen/make_tiny_models.py).
//
// Tolerances: fp32 max |logit diff| <= 1e-4 and |loss diff| <= 1e-5 (the
// ARCHITECTURE.md bar); the real model (30 layers, logits up to ~30) 1e-3 and
// 1e-5. bf16: tiny models max |logit diff| <= 0.0625 and |loss diff| <= 2e-3,
// with logits of magnitude ~4, i.e. two bf16 ulps at that scale; the real model
// 0.5 (two ulps at ~30) and 1e-3: the two sides round intermediate results at
// different points (measured: 0.039 / 1e-3 tiny, 0.25 / 2e-5 real). fp16 (tiny
// models): 0.016 and 5e-4, four fp16 ulps at that scale. In bf16 finch
// must also be no further from the fp32 reference than transformers' own bf16
// run is (1.5x margin): that is the property that matters.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "finch/core/torch_util.h"
#include "finch/io/safetensors.h"
#include "finch/model/forward_probe.h"
#include "finch/model/load.h"

namespace finch::model {
namespace {


struct Case {
  std::string model;  // a tiny model's name, or "smollm2" for the real model
  std::string dtype;  // fp32 | bf16 | fp16
  double logit_tol;
  double loss_tol;
  std::string device = "cpu";
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.model << "/" << c.dtype << "/" << c.device; }

class ForwardParity : public ::testing::TestWithParam<Case> {};

TEST_P(ForwardParity, MatchesTransformers) {
  const Case& c = GetParam();
  const bool real = c.model == "smollm2";
  // The references (made by the ctest fixtures); the real model's weights live in the cache folder.
  const std::filesystem::path dir = std::filesystem::path(FINCH_PARITY_DIR) / (real ? "smollm2" : "tiny/" + c.model);
  const std::filesystem::path model_dir = real ? std::filesystem::path(FINCH_SMOLLM2_DIR) : dir;
  ASSERT_TRUE(std::filesystem::exists(dir / "reference.json")) << dir << ": no references; run through ctest";
  LoadOptions options;
  options.dtype = parse_float_dtype(c.dtype);
  options.device = parse_device(c.device);
  CausalLM lm = load_causal_lm(model_dir, options);
  const auto rows = read_probe_rows(dir / "ids.jsonl", lm->config().vocab_size);
  const ProbeResult result = run_probe(lm, rows, /*batch_size=*/8, options.device);

  const auto reference = safetensors::TensorStore::open_file(dir / "reference.safetensors");
  std::ifstream summary_file(dir / "reference.json");
  const auto summary = nlohmann::json::parse(summary_file)[c.dtype];
  ASSERT_EQ(result.logits.size(), rows.size());
  // Positions that are padding have no defined output; compare the real ones.
  auto max_diff = [&](size_t i, const at::Tensor& a, const at::Tensor& b) {
    const at::Tensor valid = at::tensor(rows[i].attention_mask, at::kLong).to(at::kBool);
    return (a - b).abs().index({valid}).max().item<double>();
  };
  double worst = 0, finch_vs_fp32 = 0, reference_vs_fp32 = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string suffix = ".logits." + std::to_string(i);
    const at::Tensor expected = reference.get(c.dtype + suffix);
    const at::Tensor exact = reference.get("fp32" + suffix);
    ASSERT_EQ(result.logits[i].sizes(), expected.sizes()) << "row " << i;
    worst = std::max(worst, max_diff(i, result.logits[i], expected));
    finch_vs_fp32 = std::max(finch_vs_fp32, max_diff(i, result.logits[i], exact));
    reference_vs_fp32 = std::max(reference_vs_fp32, max_diff(i, expected, exact));
  }
  EXPECT_LE(worst, c.logit_tol) << c.model << " " << c.dtype;
  // In reduced precision finch must be no further from the fp32 result than
  // transformers itself is (with a margin of 1.5x).
  EXPECT_LE(finch_vs_fp32, 1.5 * reference_vs_fp32 + 1e-4) << c.model << " " << c.dtype;
  std::cout << c.model << " " << c.dtype << ": finch vs fp32 " << finch_vs_fp32 << ", transformers vs fp32 "
            << reference_vs_fp32 << "\n";
  EXPECT_EQ(result.tokens, summary["tokens"].get<int64_t>());
  EXPECT_NEAR(result.loss(), summary["loss"].get<double>(), c.loss_tol);
  std::cout << c.model << " " << c.dtype << ": max |logit diff| " << worst << ", loss " << result.loss() << " vs "
            << summary["loss"].get<double>() << "\n";
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const char* m : {"llama3", "llama_tied", "mistral", "qwen2", "qwen3", "phi3"}) {
    out.push_back({m, "fp32", 1e-4, 1e-5});
    out.push_back({m, "bf16", 6.25e-2, 2e-3});
    out.push_back({m, "fp16", 1.6e-2, 5e-4});
  }
  // SmolLM2-135M on real text: 30 layers, logits up to ~30 in magnitude.
  out.push_back({"smollm2", "fp32", 1e-3, 1e-5});
  out.push_back({"smollm2", "bf16", 0.5, 1e-3});
  // Where a GPU is present the fp32 cases also run on it, against the same
  // CPU references and tolerances (these cases exist only on such machines).
  if (torch::cuda::is_available()) {
    const size_t n = out.size();
    for (size_t i = 0; i < n; ++i)
      if (out[i].dtype == "fp32") out.push_back({out[i].model, "fp32", out[i].logit_tol, out[i].loss_tol, "cuda"});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Transformers, ForwardParity, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           return info.param.model + "_" + info.param.dtype +
                                  (info.param.device == "cpu" ? "" : "_" + info.param.device);
                         });

}  // namespace
}  // namespace finch::model
