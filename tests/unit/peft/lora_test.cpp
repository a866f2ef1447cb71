#include "finch/peft/lora.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "../test_util.h"
#include "finch/core/files.h"
#include "finch/io/json_config.h"
#include "finch/io/safetensors.h"
#include "finch/model/registry.h"

namespace finch::peft {
namespace {

constexpr int64_t kLayers = 2;

// A tiny random Llama (hidden 8, 2 layers), built in memory with seeded weights.
model::CausalLM tiny_model() {
  const nlohmann::json config = {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 16}, {"hidden_size", 8},
                                 {"intermediate_size", 12}, {"num_hidden_layers", kLayers},
                                 {"num_attention_heads", 2}, {"num_key_value_heads", 1},
                                 {"tie_word_embeddings", false}};
  model::CausalLM lm(model::read_decoder_config(JsonConfig("config.json", config)), at::TensorOptions());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  torch::NoGradGuard no_grad;
  for (auto& p : lm->parameters()) p.normal_(0, 0.5, gen);
  lm->eval();
  return lm;
}

const at::Tensor& ids() {
  static const at::Tensor t = at::tensor({1, 5, 2, 9, 3, 14}, at::kLong).view({1, 6});
  return t;
}

LoraSettings settings(std::vector<std::string> targets = {"q_proj", "v_proj"}) {
  LoraSettings s;
  s.rank = 4;
  s.alpha = 8;
  s.dropout = 0;
  s.target_modules = std::move(targets);
  return s;
}

// Non-zero lora_B, so that the adapters change the output.
void randomise_lora_B(model::CausalLM& lm) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  torch::NoGradGuard no_grad;
  for (auto& [name, t] : adapter_state(lm))
    if (name.ends_with("lora_B.weight")) t.normal_(0, 0.5, gen);
}

at::Tensor logits(model::CausalLM& lm) {
  torch::NoGradGuard no_grad;
  return lm->forward(ids());
}

TEST(Lora, InjectFreezesTheBaseAndTrainsOnlyTheAdapters) {
  auto lm = tiny_model();
  const auto names = inject_lora(lm, settings(), at::make_generator<at::CPUGeneratorImpl>(0));
  EXPECT_EQ(names, (std::vector<std::string>{"model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                                             "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"}));
  EXPECT_TRUE(has_lora(lm));
  int64_t trainable = 0;
  for (const auto& p : lm->named_parameters()) {
    const bool adapter = p.key().ends_with(".lora_A.weight") || p.key().ends_with(".lora_B.weight");
    EXPECT_EQ(p.value().requires_grad(), adapter) << p.key();
    trainable += adapter;
  }
  EXPECT_EQ(trainable, 2 * 2 * kLayers);
  const auto params = lm->named_parameters();
  const at::Tensor A = params["model.layers.0.self_attn.v_proj.lora_A.weight"];
  const at::Tensor B = params["model.layers.0.self_attn.v_proj.lora_B.weight"];
  EXPECT_EQ(A.sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_EQ(B.sizes(), (std::vector<int64_t>{4, 4}));  // v_proj: 1 kv head of dim 4
  EXPECT_EQ(A.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::equal(B, at::zeros_like(B)));
  // kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(in), 1/sqrt(in)).
  EXPECT_LE(A.abs().max().item<double>(), 1 / std::sqrt(8.0));
  EXPECT_GT(A.abs().max().item<double>(), 0.5 / std::sqrt(8.0));

  // Gradients reach the adapters only; with B = 0 only B's gradient is non-zero.
  lm->forward(ids()).square().sum().backward();
  for (const auto& p : lm->named_parameters())
    if (!p.value().requires_grad()) {
      EXPECT_FALSE(p.value().grad().defined()) << p.key();
    }
  EXPECT_GT(B.grad().abs().sum().item<double>(), 0);
  EXPECT_EQ(A.grad().abs().sum().item<double>(), 0);
}

TEST(Lora, TheSameGeneratorGivesTheSameAdapters) {
  auto a = tiny_model(), b = tiny_model();
  inject_lora(a, settings(), at::make_generator<at::CPUGeneratorImpl>(7));
  inject_lora(b, settings(), at::make_generator<at::CPUGeneratorImpl>(7));
  const auto sa = adapter_state(a), sb = adapter_state(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(at::equal(sa[i].second, sb[i].second)) << sa[i].first;
}

TEST(Lora, OutputEqualsTheBaseAtInitialisation) {
  auto lm = tiny_model();
  const at::Tensor before = logits(lm);
  inject_lora(lm, settings({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}));
  EXPECT_TRUE(at::equal(logits(lm), before));
  randomise_lora_B(lm);
  EXPECT_GT((logits(lm) - before).abs().max().item<double>(), 1e-3);
}

TEST(Lora, MergeThenUnmergeRestoresTheWeights) {
  auto lm = tiny_model();
  inject_lora(lm, settings());
  randomise_lora_B(lm);
  const at::Tensor adapted = logits(lm);
  const at::Tensor w = lm->named_parameters()["model.layers.1.self_attn.q_proj.weight"].clone();

  merge(lm);
  const at::Tensor merged_w = lm->named_parameters()["model.layers.1.self_attn.q_proj.weight"].clone();
  EXPECT_GT((merged_w - w).abs().max().item<double>(), 1e-3);
  // fp32: the merged product rounds differently from the two small matmuls.
  EXPECT_TRUE(at::allclose(logits(lm), adapted, 0, 1e-5));
  test::expect_error([&] { merge(lm); }, {"merge", "already merged"});

  unmerge(lm);
  EXPECT_TRUE(at::allclose(lm->named_parameters()["model.layers.1.self_attn.q_proj.weight"], w, 0, 1e-6));
  EXPECT_TRUE(at::allclose(logits(lm), adapted, 0, 1e-5));
  test::expect_error([&] { unmerge(lm); }, {"unmerge", "not merged"});

  merge_and_unload(lm);
  EXPECT_FALSE(has_lora(lm));
  for (const auto& p : lm->named_parameters()) EXPECT_EQ(p.key().find("lora_"), std::string::npos) << p.key();
  EXPECT_TRUE(at::equal(lm->named_parameters()["model.layers.1.self_attn.q_proj.weight"], merged_w));
  EXPECT_TRUE(at::allclose(logits(lm), adapted, 0, 1e-5));
  test::expect_error([&] { merge(lm); }, {"merge", "no LoRA adapters"});
}

// As PEFT (autocast_adapter_dtype): fp32 adapters on a bf16 model, the
// adapter's input cast up and the sum cast back to the base dtype.
TEST(Lora, AdaptersStayFp32OnAReducedPrecisionModel) {
  auto lm = tiny_model();
  lm->to(at::kBFloat16);
  inject_lora(lm, settings());
  randomise_lora_B(lm);
  for (const auto& [name, t] : adapter_state(lm)) EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
  const at::Tensor adapted = logits(lm);
  EXPECT_EQ(adapted.scalar_type(), at::kBFloat16);
  merge(lm);
  EXPECT_EQ(lm->named_parameters()["model.layers.0.self_attn.q_proj.weight"].scalar_type(), at::kBFloat16);
  // A loose bound: bf16 rounds the merged weights and every intermediate result.
  EXPECT_LE((logits(lm).to(at::kFloat) - adapted.to(at::kFloat)).abs().max().item<double>(), 0.5);
}

TEST(Lora, SettingsAreValidated) {
  auto with = [](auto change) {
    LoraSettings s = settings();
    change(s);
    return s;
  };
  test::expect_error([&] { with([](auto& s) { s.rank = 0; }).validate(); }, {"lora.rank", "got 0"});
  test::expect_error([&] { with([](auto& s) { s.alpha = 0; }).validate(); }, {"lora.alpha"});
  test::expect_error([&] { with([](auto& s) { s.dropout = 1; }).validate(); }, {"lora.dropout", "[0, 1)"});
  test::expect_error([&] { with([](auto& s) { s.target_modules.clear(); }).validate(); },
                     {"lora.target_modules", "at least one"});
  EXPECT_DOUBLE_EQ(settings().scaling(), 2.0);
  EXPECT_DOUBLE_EQ(with([](auto& s) { s.use_rslora = true; }).scaling(), 4.0);

  auto lm = tiny_model();
  test::expect_error([&] { inject_lora(lm, settings({"q_proj", "qproj"})); },
                     {"lora.target_modules", "'qproj'",
                      "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head"});
  test::expect_error([&] { inject_lora(lm, with([](auto& s) { s.rank = 0; })); }, {"lora.rank"});
  EXPECT_FALSE(has_lora(lm));
  for (const auto& p : lm->parameters()) EXPECT_TRUE(p.requires_grad());
  inject_lora(lm, settings());
  test::expect_error([&] { inject_lora(lm, settings()); }, {"already carries LoRA adapters"});
}

TEST(Lora, SaveThenLoadRoundTrips) {
  test::TempDir dir;
  auto lm = tiny_model();
  LoraSettings s = settings();
  s.use_rslora = true;
  s.dropout = 0.05;
  inject_lora(lm, s);
  randomise_lora_B(lm);
  save_adapter(lm, s, dir.path(), "org/tiny");

  const auto config = read_json_file(dir / "adapter_config.json");
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["lora_alpha"], 8);
  EXPECT_TRUE(config["lora_alpha"].is_number_integer());
  EXPECT_EQ(config["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
  EXPECT_EQ(config["base_model_name_or_path"], "org/tiny");
  EXPECT_EQ(config["use_rslora"], true);
  EXPECT_EQ(config["bias"], "none");
  const auto store = safetensors::TensorStore::open_file(dir / "adapter_model.safetensors");
  EXPECT_EQ(store.names().size(), 2u * 2 * kLayers);
  EXPECT_TRUE(store.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_EQ(store.get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight").scalar_type(), at::kFloat);

  auto loaded = tiny_model();
  const LoraSettings read = load_adapter(loaded, dir.path());
  EXPECT_EQ(read.rank, 4);
  EXPECT_EQ(read.alpha, 8);
  EXPECT_EQ(read.dropout, 0.05);
  EXPECT_TRUE(read.use_rslora);
  EXPECT_EQ(read.target_modules, s.target_modules);
  const auto a = adapter_state(lm), b = adapter_state(loaded);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
  }
  EXPECT_TRUE(at::equal(logits(loaded), logits(lm)));
}

TEST(Lora, AdapterFilesFinchCannotHonourAreOneLineErrors) {
  test::TempDir dir;
  auto lm = tiny_model();
  inject_lora(lm, settings());
  save_adapter(lm, settings(), dir.path(), "org/tiny");
  const auto path = dir / "adapter_config.json";
  const auto original = read_json_file(path);
  auto rewrite = [&](const char* key, nlohmann::json value) {
    auto config = original;
    config[key] = std::move(value);
    write_file_atomic(path, config.dump());
  };
  rewrite("fan_in_fan_out", true);
  test::expect_error([&] { read_adapter_config(dir.path()); }, {path.string(), "fan_in_fan_out", "not supported"});
  rewrite("bias", "all");
  test::expect_error([&] { read_adapter_config(dir.path()); }, {path.string(), "'bias'", "none"});
  rewrite("target_modules", ".*proj");
  test::expect_error([&] { read_adapter_config(dir.path()); }, {path.string(), "target_modules", "regular expression"});
  rewrite("r", 0);
  test::expect_error([&] { read_adapter_config(dir.path()); }, {path.string(), "rank"});
  write_file_atomic(path, original.dump());

  // A weights file for other targets: one error naming what is missing and unexpected.
  auto other = tiny_model();
  inject_lora(other, settings({"k_proj"}));
  save_adapter(other, settings({"k_proj"}), dir / "other", "org/tiny");
  test::expect_error([&] { load_adapter_weights(lm, dir / "other" / "adapter_model.safetensors"); },
                     {"missing 8: base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
                      "unexpected 4: base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"});
}

// Dropout acts on the adapter's input in training mode only (as nn.Dropout).
TEST(Lora, DropoutOnlyWhileTraining) {
  auto lm = tiny_model();
  LoraSettings s = settings({"q_proj"});
  s.dropout = 0.5;
  inject_lora(lm, s);
  randomise_lora_B(lm);
  auto& q = *lm->model->layers->ptr<model::DecoderLayerImpl>(0)->self_attn->q_proj;
  torch::NoGradGuard no_grad;
  const at::Tensor x = at::ones({4096, 8});  // the same input row 4096 times
  const at::Tensor base = at::linear(x, q.weight);

  lm->eval();
  const at::Tensor eval_delta = q.forward(x) - base;
  EXPECT_GT(eval_delta.abs().max().item<double>(), 1e-2);
  EXPECT_TRUE(at::allclose(eval_delta, eval_delta[0].expand_as(eval_delta), 0, 1e-6));  // no dropout

  lm->train();
  const at::Tensor train_delta = q.forward(x) - base;
  // Rows differ (each drew its own mask), but dropout is unbiased: the mean is the eval output.
  EXPECT_GT((train_delta - eval_delta).abs().max().item<double>(), 1e-2);
  EXPECT_TRUE(at::allclose(train_delta.mean(0), eval_delta[0], 0.1, 0.05 * eval_delta.abs().max().item<double>()));
  // The masks come from torch's default generator: the same seed, the same output.
  at::manual_seed(9);
  const at::Tensor first = q.forward(x);
  at::manual_seed(9);
  EXPECT_TRUE(at::equal(q.forward(x), first));
}

}  // namespace
}  // namespace finch::peft
