// Training parity with HF Trainer + PEFT (references from
// gen/make_train_cases.py): 20 optimizer steps on a tiny random Llama with the
// same samples in the same order, from the same start (PEFT's initial adapter,
// or the base weights for full fine-tuning).
//
// Tolerances (the bar): every step's loss within 1e-4 relative of the
// Trainer's; the final adapter or model weights within 1e-4 absolute. The
// grad norm (before clipping) is checked at 1e-4 relative too, and the
// learning rate of each step at 1e-12 (it is closed-form on both sides).
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finch/data/samples.h"
#include "finch/io/safetensors.h"
#include "finch/model/load.h"
#include "finch/peft/lora.h"
#include "finch/train/callbacks.h"
#include "finch/train/checkpointing.h"
#include "finch/train/trainer.h"

namespace finch::train {
namespace {
namespace fs = std::filesystem;

class Recorder : public Callback {
 public:
  std::vector<StepLog> steps;
  void on_step_end(Trainer&, const StepLog& s) override { steps.push_back(s); }
};

std::vector<data::Sample> read_samples(const fs::path& file) {
  std::vector<data::Sample> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    out.push_back({j["input_ids"].get<std::vector<int64_t>>(), j["labels"].get<std::vector<int64_t>>()});
  }
  return out;
}

struct Case {
  std::string name;
  bool checkpointing;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name << (c.checkpointing ? "_ckpt" : ""); }

class TrainParity : public ::testing::TestWithParam<Case> {};

TEST_P(TrainParity, MatchesHFTrainer) {
  const Case& c = GetParam();
  const fs::path dir = fs::path(FINCH_PARITY_DIR) / "train" / c.name;
  ASSERT_TRUE(fs::exists(dir / "reference.json")) << dir << ": no references; run through ctest";
  const auto reference = nlohmann::json::parse(std::ifstream(dir / "reference.json"));
  const auto& s = reference["settings"];
  at::set_num_threads(1);  // as the generator: the same reduction order

  TrainSettings settings;
  settings.full_ft = s["method"] == "full";
  settings.max_steps = s["max_steps"];
  settings.per_device_train_batch_size = s["per_device_train_batch_size"];
  settings.gradient_accumulation_steps = s["gradient_accumulation_steps"];
  settings.learning_rate = s["learning_rate"];
  settings.weight_decay = s["weight_decay"];
  settings.warmup_steps = s["warmup_steps"];
  settings.lr_scheduler_type = s["lr_scheduler_type"];
  settings.max_grad_norm = s["max_grad_norm"];
  settings.adam_beta1 = s["adam_beta1"];
  settings.adam_beta2 = s["adam_beta2"];
  settings.adam_epsilon = s["adam_epsilon"];
  settings.logging_steps = 1;
  settings.eval_steps = 0;
  settings.save_steps = 0;
  settings.resume = "never";
  settings.device = "cpu";
  settings.activation_checkpointing = c.checkpointing;

  model::CausalLM model = model::load_causal_lm(dir / reference["base_dir"].get<std::string>());
  peft::LoraSettings lora;
  if (!settings.full_ft) {
    lora = peft::load_adapter(model, dir / "init_adapter");
  } else {
    for (auto& p : model->parameters()) p.set_requires_grad(true);
  }
  set_activation_checkpointing(model, c.checkpointing);
  TrainerData data;
  data.train = std::make_shared<const data::SampleSet>(read_samples(dir / "samples.jsonl"));
  data.collate = {reference["collator"] == "packed", s.value("pad_token_id", int64_t{0})};
  data.shuffle = false;
  const fs::path out = fs::temp_directory_path() / ("finch-train-parity-" + c.name + std::to_string(c.checkpointing));
  fs::remove_all(out);
  Trainer trainer(settings, lora, model, data, {"base", dir / reference["base_dir"].get<std::string>()}, out);
  auto recorder = std::make_shared<Recorder>();
  trainer.add_callback(recorder);
  add_default_callbacks(trainer);
  trainer.train();

  const auto& steps = reference["steps"];
  ASSERT_EQ(recorder->steps.size(), steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    const StepLog& got = recorder->steps[i];
    const double loss = steps[i]["loss"], norm = steps[i]["grad_norm"], lr = steps[i]["learning_rate"];
    EXPECT_EQ(got.targets, steps[i]["num_items_in_batch"].get<int64_t>()) << "step " << i + 1;
    EXPECT_NEAR(got.loss, loss, 1e-4 * std::abs(loss)) << "step " << i + 1;
    EXPECT_NEAR(got.grad_norm, norm, 1e-4 * std::abs(norm)) << "step " << i + 1;
    EXPECT_NEAR(got.learning_rate, lr, 1e-12) << "step " << i + 1;
  }
  // The final weights, by the names PEFT / HF save them under.
  const std::string file = settings.full_ft ? "model.safetensors" : "adapter_model.safetensors";
  const auto expected = safetensors::TensorStore::open_file(dir / "final" / file);
  const auto actual = safetensors::TensorStore::open_file(out / "final" / file);
  ASSERT_EQ(actual.names().size(), expected.names().size());
  double worst = 0;
  for (const auto& name : expected.names()) {
    ASSERT_TRUE(actual.contains(name)) << name;
    worst = std::max(worst, (actual.get(name).to(at::kFloat) - expected.get(name).to(at::kFloat)).abs().max().item<double>());
  }
  EXPECT_LE(worst, 1e-4);
  std::cout << c.name << ": final loss " << recorder->steps.back().loss << " vs " << steps.back()["loss"].get<double>()
            << ", max |weight diff| " << worst << "\n";
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(HF, TrainParity,
                         ::testing::Values(Case{"lora", false}, Case{"lora", true}, Case{"lora_accum4", false},
                                           Case{"full", false}, Case{"full", true}, Case{"lora_packed", false}),
                         [](const auto& info) { return info.param.name + (info.param.checkpointing ? "_ckpt" : ""); });

}  // namespace
}  // namespace finch::train
