#include "finch/train/optimizer.h"

#include "../test_util.h"
#include "finch/io/safetensors.h"

namespace finch::train {
namespace {

const AdamWOptions kOptions{.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.1};

std::vector<NamedParameter> make_parameters() {
  at::manual_seed(5);
  return {{"model.layers.0.self_attn.q_proj.weight", at::randn({3, 4}).requires_grad_(true)},
          {"model.norm.weight", at::randn({4}).requires_grad_(true)}};
}

// Deterministic grads for step `step`.
void set_grads(std::vector<NamedParameter>& parameters, int step) {
  for (size_t i = 0; i < parameters.size(); ++i)
    parameters[i].tensor.mutable_grad() =
        at::sin(at::arange(parameters[i].tensor.numel(), at::kFloat) * (step + 1) + static_cast<double>(i))
            .view(parameters[i].tensor.sizes());
}

TEST(AdamW, ContinuingAfterLoadEqualsNeverStopping) {
  test::TempDir dir;
  auto straight = make_parameters();
  AdamW through(straight, kOptions);
  for (int step = 0; step < 6; ++step) {
    set_grads(straight, step);
    through.step(1e-2);
  }

  auto first = make_parameters();
  AdamW before(first, kOptions);
  for (int step = 0; step < 3; ++step) {
    set_grads(first, step);
    before.step(1e-2);
  }
  before.save(dir / "optimizer.safetensors");
  // A fresh process: parameters as saved (the model checkpoint), a new optimizer, its state loaded.
  auto second = make_parameters();
  for (size_t i = 0; i < second.size(); ++i) second[i].tensor.data().copy_(first[i].tensor);
  AdamW after(second, kOptions);
  after.load(dir / "optimizer.safetensors");
  EXPECT_EQ(after.steps(), 3);
  for (int step = 3; step < 6; ++step) {
    set_grads(second, step);
    after.step(1e-2);
  }
  EXPECT_EQ(after.steps(), 6);
  for (size_t i = 0; i < second.size(); ++i) EXPECT_TRUE(at::equal(second[i].tensor, straight[i].tensor)) << i;
}

TEST(AdamW, SavesNamedStateAndStep) {
  test::TempDir dir;
  auto parameters = make_parameters();
  AdamW optimizer(parameters, kOptions);
  set_grads(parameters, 0);
  optimizer.step(1e-3);
  optimizer.save(dir / "o.safetensors");
  const safetensors::File file(dir / "o.safetensors");
  EXPECT_EQ(file.header().metadata.at("step"), "1");
  EXPECT_EQ(file.names().size(), 4u);
  // After one step exp_avg = (1 - beta1) * grad.
  EXPECT_TRUE(at::allclose(file.get("exp_avg.model.norm.weight"), parameters[1].tensor.grad() * 0.1));
}

TEST(AdamW, LoadErrorsNameTheFileAndTensor) {
  test::TempDir dir;
  auto parameters = make_parameters();
  AdamW optimizer(parameters, kOptions);
  const auto file = dir / "o.safetensors";
  const at::Tensor w = at::zeros({3, 4}), n = at::zeros({4});
  safetensors::save_file(file, {{"exp_avg.model.layers.0.self_attn.q_proj.weight", w},
                                {"exp_avg_sq.model.layers.0.self_attn.q_proj.weight", w},
                                {"exp_avg.model.norm.weight", n}},
                         {{"step", "2"}});
  test::expect_error([&] { optimizer.load(file); }, {file.string(), "exp_avg_sq.model.norm.weight is missing"});
  safetensors::save_file(file, {{"exp_avg.model.layers.0.self_attn.q_proj.weight", w},
                                {"exp_avg_sq.model.layers.0.self_attn.q_proj.weight", w},
                                {"exp_avg.model.norm.weight", n}, {"exp_avg_sq.model.norm.weight", at::zeros({5})}},
                         {{"step", "2"}});
  test::expect_error([&] { optimizer.load(file); }, {file.string(), "exp_avg_sq.model.norm.weight is Float 5, expected Float 4"});
  safetensors::save_file(file, {{"exp_avg.lm_head.weight", n}}, {{"step", "2"}});
  test::expect_error([&] { optimizer.load(file); }, {file.string(), "exp_avg.lm_head.weight belongs to no"});
  safetensors::save_file(file, {}, {{"step", "x2"}});
  test::expect_error([&] { optimizer.load(file); }, {file.string(), "step 'x2'"});
  safetensors::save_file(file, {});
  test::expect_error([&] { optimizer.load(file); }, {file.string(), "no 'step'"});
  EXPECT_EQ(optimizer.steps(), 0) << "a failed load changes nothing";
}

TEST(AdamW, SkipsParametersWithoutGradAndZeroGradClears) {
  auto parameters = make_parameters();
  const at::Tensor norm_before = parameters[1].tensor.clone();
  AdamW optimizer(parameters, kOptions);
  parameters[0].tensor.mutable_grad() = at::ones({3, 4});
  optimizer.step(1e-2);
  EXPECT_TRUE(at::equal(parameters[1].tensor, norm_before));
  EXPECT_FALSE(at::equal(parameters[0].tensor, make_parameters()[0].tensor));
  optimizer.zero_grad();
  EXPECT_FALSE(parameters[0].tensor.grad().defined());
}

TEST(AdamW, DecayExcludesBiasesAndNorms) {
  EXPECT_TRUE(decays("model.layers.0.mlp.down_proj.weight"));
  EXPECT_TRUE(decays("model.layers.0.self_attn.q_proj.lora_A.default.weight"));
  EXPECT_TRUE(decays("model.embed_tokens.weight"));
  EXPECT_FALSE(decays("model.layers.0.input_layernorm.weight"));
  EXPECT_FALSE(decays("model.layers.0.self_attn.q_norm.weight"));
  EXPECT_FALSE(decays("model.norm.weight"));
  EXPECT_FALSE(decays("model.layers.0.self_attn.q_proj.bias"));
}

TEST(ClipGradNorm, ScalesOnlyAboveTheLimit) {
  auto parameters = make_parameters();
  parameters[0].tensor.mutable_grad() = at::full({3, 4}, 1.0);  // norm sqrt(12)
  parameters[1].tensor.mutable_grad() = at::full({4}, 0.5);     // norm 1
  const double total = clip_grad_norm(parameters, 1.0);
  EXPECT_NEAR(total, std::sqrt(13.0), 1e-6);
  EXPECT_NEAR(at::linalg_vector_norm(at::cat({parameters[0].tensor.grad().flatten(), parameters[1].tensor.grad()}), 2)
                  .item<double>(),
              1.0, 1e-6);
  const at::Tensor unchanged = parameters[1].tensor.grad().clone();
  EXPECT_NEAR(clip_grad_norm(parameters, 0.0), 1.0, 1e-6);  // norm only
  EXPECT_TRUE(at::equal(parameters[1].tensor.grad(), unchanged));
}

}  // namespace
}  // namespace finch::train
