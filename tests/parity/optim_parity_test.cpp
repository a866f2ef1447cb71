// finch's AdamW, gradient clipping and learning-rate schedules against torch
// and transformers themselves (tests/parity/gen/make_optim_cases.py): HF
// Trainer's optimizer (torch.optim.AdamW, fused) with its two parameter
// groups and cosine schedule for ten steps, clip_grad_norm_ on fp32, bf16 and
// mixed sets with inf and nan, and the three schedules' multipliers.
// Tolerance: none. On the CPU in fp32 every value is bit-identical: finch
// calls the same ATen kernels in the same order with the same scalars.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "finch/io/safetensors.h"
#include "finch/train/optimizer.h"
#include "finch/train/schedule.h"

namespace finch::train {
namespace {

const std::filesystem::path kCases = std::filesystem::path(FINCH_PARITY_DIR) / "optim";

const nlohmann::json& cases() {
  static const nlohmann::json parsed = [] {
    std::ifstream in(kCases / "cases.json");
    if (!in) throw std::runtime_error("missing " + (kCases / "cases.json").string());
    return nlohmann::json::parse(in);
  }();
  return parsed;
}

// Equal values, with nan equal to nan (and -0 equal to 0).
bool same(const at::Tensor& a, const at::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() &&
         ((a == b) | (a.isnan() & b.isnan())).all().item<bool>();
}

TEST(OptimParity, DecayRuleIsTrainers) {
  const auto& expected = cases()["decay"];
  for (const auto& name : cases()["decay_checked"]) {
    const bool hf = std::find(expected.begin(), expected.end(), name) != expected.end();
    EXPECT_EQ(decays(name.get<std::string>()), hf) << name;
  }
}

TEST(OptimParity, AdamWTenStepsAsTrainer) {
  const auto& c = cases()["adamw"];
  const auto store = safetensors::TensorStore::open_file(kCases / "adamw.safetensors");
  std::vector<NamedParameter> parameters;
  for (const auto& name : c["names"])
    parameters.push_back({name, store.get("init." + name.get<std::string>()).clone().requires_grad_(true)});
  AdamW optimizer(parameters, {.lr = c["lr"], .beta1 = c["beta1"], .beta2 = c["beta2"], .eps = c["eps"],
                               .weight_decay = c["weight_decay"]});
  const Schedule schedule{"cosine", c["warmup_steps"], c["steps"]};
  for (int64_t step = 0; step < c["steps"].get<int64_t>(); ++step) {
    SCOPED_TRACE(fmt::format("step {}", step));
    // HF's LambdaLR sets lr = base_lr * multiplier; the trainer passes that product.
    const double lr = c["lr"].get<double>() * schedule.multiplier(step);
    EXPECT_EQ(lr, c["lrs"][step].get<double>());
    for (auto& p : parameters) p.tensor.mutable_grad() = store.get(fmt::format("grad.{}.{}", step, p.name)).clone();
    optimizer.step(lr);
    for (const auto& p : parameters)
      EXPECT_TRUE(at::equal(p.tensor, store.get(fmt::format("param.{}.{}", step, p.name)))) << p.name;
  }
  EXPECT_EQ(optimizer.steps(), c["steps"].get<int64_t>());
  const auto state_file = std::filesystem::temp_directory_path() / fmt::format("finch-optim-{}.safetensors", getpid());
  optimizer.save(state_file);
  const auto saved = safetensors::TensorStore::open_file(state_file);
  for (const auto& p : parameters)
    for (const char* kind : {"exp_avg.", "exp_avg_sq."})
      EXPECT_TRUE(at::equal(saved.get(kind + p.name), store.get(kind + p.name))) << kind << p.name;
  std::filesystem::remove(state_file);
}

TEST(OptimParity, ClipGradNormAsTorch) {
  const auto store = safetensors::TensorStore::open_file(kCases / "clip.safetensors");
  for (const auto& [name, c] : cases()["clip"].items()) {
    SCOPED_TRACE(name);
    std::vector<NamedParameter> parameters;
    for (int i = 0; i < c["count"].get<int>(); ++i) {
      const at::Tensor grad = store.get(fmt::format("{}.before.{}", name, i)).clone();
      NamedParameter p{fmt::format("p{}", i), at::zeros_like(grad).requires_grad_(true)};
      p.tensor.mutable_grad() = grad;
      parameters.push_back(p);
    }
    const double total = clip_grad_norm(parameters, c["max_norm"]);
    const double expected = store.get(name + ".total").item<double>();
    EXPECT_TRUE(total == expected || (std::isnan(total) && std::isnan(expected))) << total << " vs " << expected;
    for (int i = 0; i < c["count"].get<int>(); ++i)
      EXPECT_TRUE(same(parameters[i].tensor.grad(), store.get(fmt::format("{}.after.{}", name, i)))) << i;
  }
}

TEST(OptimParity, SchedulesAsTransformers) {
  int checked = 0;
  for (const auto& c : cases()["schedules"]) {
    const Schedule schedule{c["type"], c["warmup_steps"], c["total_steps"]};
    SCOPED_TRACE(fmt::format("{} warmup {} total {}", schedule.type, schedule.warmup_steps, schedule.total_steps));
    for (size_t step = 0; step < c["multipliers"].size(); ++step, ++checked)
      EXPECT_EQ(schedule.multiplier(static_cast<int64_t>(step)), c["multipliers"][step].get<double>()) << step;
  }
  EXPECT_GT(checked, 300);
}

}  // namespace
}  // namespace finch::train
