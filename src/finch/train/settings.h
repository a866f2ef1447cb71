// The training settings: the seed tools' names and defaults (flag aliases
// --max_steps, --learning_rate, ...), in section "train".
#pragma once

#include <cstdint>
#include <string>

#include "finch/core/config.h"

namespace finch::train {

struct TrainSettings {
  bool full_ft = false;  // false: LoRA (section "lora"); true: every parameter trains
  int64_t max_steps = 1000;
  int64_t per_device_train_batch_size = 4;
  int64_t per_device_eval_batch_size = 4;
  int64_t gradient_accumulation_steps = 1;
  double learning_rate = 2e-4;
  double weight_decay = 0.0;
  std::string lr_scheduler_type = "cosine";  // cosine | linear | constant (all with linear warm-up)
  int64_t warmup_steps = 0;
  double max_grad_norm = 1.0;  // 0 = no clipping
  double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
  int64_t logging_steps = 10;
  int64_t eval_steps = 100;  // 0 = no evaluation
  int64_t max_eval_samples = 0;  // 0 = the whole validation split
  int64_t early_stopping_patience = 0;  // evaluations without improvement; 0 = off
  double early_stopping_threshold = 0.0;
  int64_t seed = 42;
  int64_t save_steps = 100;
  int64_t save_total_limit = 0;  // 0 = keep every checkpoint
  std::string output_dir;  // empty: results/{hf_model_id}
  std::string data_dir;    // empty: the prepared dataset folder of section "data"
  std::string resume = "auto";  // auto (newest complete checkpoint, if any) | never | a checkpoint directory
  std::string device = "auto";  // auto (cuda when available) | cpu | cuda | cuda:N
  std::string precision = "auto";  // auto (bf16 autocast on a GPU, fp32 on the CPU) | fp32 | bf16
  bool activation_checkpointing = true;
  int64_t max_nonfinite_steps = 10;  // consecutive skipped steps before the run aborts

  void describe(config::Registry& registry);
  void validate() const;  // one-line errors naming the key
};

}  // namespace finch::train
