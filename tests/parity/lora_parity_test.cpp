// LoRA parity with PEFT on a tiny random Llama (references from
// gen/make_lora_cases.py): the adapted model's logits, PEFT's initial lora_A
// for the same seed, training-mode dropout for the same seed, and
// merge_and_unload's weights. Each case also exports its adapter with
// save_adapter into <case>/finch_adapter, which gen/check_lora_export.py then
// loads with PeftModel.from_pretrained (the next ctest step).
//
// Tolerances (fp32): logits 1e-5 at logits of magnitude ~3 (a margin for
// kernels that block sums differently on other CPUs); merged weights 1e-6 (the
// same B A * scaling added the same way); initial lora_A bit-exact (the same
// draws from the same generator state). Measured here: every difference 0.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "finch/io/json_config.h"
#include "finch/io/safetensors.h"
#include "finch/model/load.h"
#include "finch/peft/lora.h"

namespace finch::peft {
namespace {

namespace fs = std::filesystem;

const fs::path kDir = fs::path(FINCH_PARITY_DIR) / "lora";

struct Reference {
  safetensors::TensorStore tensors;
  nlohmann::json info;
  at::Tensor ids;

  explicit Reference(const std::string& name)
      : tensors(safetensors::TensorStore::open_file(kDir / name / "reference.safetensors")),
        info(read_json_file(kDir / name / "reference.json")) {
    std::vector<int64_t> flat;
    for (const auto& row : info["input_ids"])
      for (const auto& id : row) flat.push_back(id.get<int64_t>());
    ids = at::tensor(flat, at::kLong).view({static_cast<int64_t>(info["input_ids"].size()), -1});
  }
};

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

at::Tensor run(model::CausalLM& lm, const at::Tensor& ids) {
  torch::NoGradGuard no_grad;
  return lm->forward(ids);
}

class LoraParity : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kDir / GetParam() / "reference.json")) << kDir << ": no references; run through ctest";
  }
  fs::path adapter_dir() const { return kDir / GetParam() / "adapter"; }
};

TEST_P(LoraParity, LogitsMatchPeft) {
  const Reference ref(GetParam());
  auto lm = model::load_causal_lm(kDir / "base");
  const at::Tensor base = run(lm, ref.ids);
  load_adapter(lm, adapter_dir());
  const at::Tensor logits = run(lm, ref.ids);
  const at::Tensor expected = ref.tensors.get("logits");
  ASSERT_EQ(logits.sizes(), expected.sizes());
  EXPECT_LE(max_diff(logits, expected), 1e-5);
  std::cout << GetParam() << ": max |logit diff| " << max_diff(logits, expected) << "\n";
  EXPECT_GT(max_diff(logits, base), 1e-2) << "the adapters should change the logits";
}

TEST_P(LoraParity, InitialisationMatchesPeftForTheSameSeed) {
  const Reference ref(GetParam());
  auto lm = model::load_causal_lm(kDir / "base");
  const LoraSettings settings = read_adapter_config(adapter_dir());
  inject_lora(lm, settings, at::make_generator<at::CPUGeneratorImpl>(ref.info["init_seed"].get<uint64_t>()));
  int compared = 0;
  for (const auto& [name, t] : adapter_state(lm)) {
    if (name.ends_with("lora_B.weight")) {
      EXPECT_TRUE(at::equal(t, at::zeros_like(t))) << name;
      continue;
    }
    ASSERT_TRUE(ref.tensors.contains("init." + name)) << name;
    EXPECT_TRUE(at::equal(t, ref.tensors.get("init." + name))) << name;
    ++compared;
  }
  int expected = 0;
  for (const auto& n : ref.tensors.names()) expected += n.starts_with("init.");
  EXPECT_EQ(compared, expected);
}

TEST_P(LoraParity, MergedWeightsMatchPeft) {
  const Reference ref(GetParam());
  auto lm = model::load_causal_lm(kDir / "base");
  load_adapter(lm, adapter_dir());
  merge_and_unload(lm);
  EXPECT_FALSE(has_lora(lm));
  int compared = 0;
  double worst = 0;
  for (const auto& p : lm->named_parameters()) {
    ASSERT_TRUE(ref.tensors.contains("merged." + p.key())) << p.key();
    worst = std::max(worst, max_diff(p.value(), ref.tensors.get("merged." + p.key())));
    EXPECT_LE(worst, 1e-6) << p.key();
    ++compared;
  }
  std::cout << GetParam() << ": max |merged weight diff| " << worst << "\n";
  int expected = 0;
  for (const auto& n : ref.tensors.names()) expected += n.starts_with("merged.");
  EXPECT_EQ(compared, expected);
  EXPECT_LE(max_diff(run(lm, ref.ids), ref.tensors.get("logits")), 1e-5);
}

// Writes <case>/finch_adapter for gen/check_lora_export.py.
TEST_P(LoraParity, ExportsTheAdapter) {
  auto lm = model::load_causal_lm(kDir / "base");
  const LoraSettings settings = load_adapter(lm, adapter_dir());
  const fs::path out = kDir / GetParam() / "finch_adapter";
  fs::remove_all(out);
  save_adapter(lm, settings, out, (kDir / "base").string());
  EXPECT_TRUE(fs::exists(out / "adapter_config.json"));
  EXPECT_TRUE(fs::exists(out / "adapter_model.safetensors"));
}

INSTANTIATE_TEST_SUITE_P(Cases, LoraParity, ::testing::Values("lora", "rslora", "dropout"));

// nn.Dropout and at::dropout draw the same masks from torch's default
// generator, in the same order (the adapters in forward order).
TEST(LoraDropoutParity, TrainingModeMatchesPeftForTheSameSeed) {
  const Reference ref("dropout");
  auto lm = model::load_causal_lm(kDir / "base");
  EXPECT_EQ(load_adapter(lm, kDir / "dropout" / "adapter").dropout, 0.25);
  lm->train();
  at::manual_seed(ref.info["dropout_seed"].get<uint64_t>());
  const at::Tensor train_logits = run(lm, ref.ids);
  EXPECT_LE(max_diff(train_logits, ref.tensors.get("train_logits")), 1e-5);
  std::cout << "training mode: max |logit diff| " << max_diff(train_logits, ref.tensors.get("train_logits")) << "\n";
  lm->eval();
  EXPECT_LE(max_diff(run(lm, ref.ids), ref.tensors.get("logits")), 1e-5);
}

}  // namespace
}  // namespace finch::peft
