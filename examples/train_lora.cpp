// finch as a library: LoRA fine-tuning in a few lines, with a callback of our own.
// Usage: train_lora MODEL_DIR PREPARED_DATA_DIR OUTPUT_DIR
#include <iostream>

#include "finch/data/prepare.h"
#include "finch/model/load.h"
#include "finch/tokenizer/tokenizer_config.h"
#include "finch/train/callbacks.h"
#include "finch/train/trainer.h"

struct PrintLoss : finch::train::Callback {
  void on_step_end(finch::train::Trainer&, const finch::train::StepLog& s) override {
    std::cout << "step " << s.step << " loss " << s.loss << "\n";
  }
};

int main(int argc, char** argv) {
  if (argc != 4) return std::cerr << "usage: train_lora MODEL_DIR DATA_DIR OUTPUT_DIR\n", 2;
  const auto tokenizer = finch::tokenizer::PretrainedTokenizer::from_dir(argv[1]);
  finch::data::DataConfig data;  // max_seq_length, packing, ... as in finch train
  finch::train::TrainerData samples;
  samples.train = finch::data::load_samples(std::filesystem::path(argv[2]) / "training.jsonl", data, tokenizer, argv[1]);
  samples.collate = {data.packing, finch::data::pad_token_id(tokenizer)};
  finch::train::TrainSettings settings;
  settings.max_steps = 5, settings.save_steps = 0, settings.eval_steps = 0, settings.device = "cpu";
  finch::peft::LoraSettings lora;
  lora.rank = 8, lora.alpha = 16;
  auto model = finch::model::load_causal_lm(argv[1]);
  finch::peft::inject_lora(model, lora);
  finch::train::Trainer trainer(settings, lora, model, samples, {argv[1], argv[1]}, argv[3]);
  finch::train::add_default_callbacks(trainer);
  trainer.add_callback(std::make_shared<PrintLoss>());
  trainer.train();
}
