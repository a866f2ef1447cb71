#include "finch/train/settings.h"

#include "finch/core/error.h"

namespace finch::train {

void TrainSettings::describe(config::Registry& registry) {
  auto s = registry.section("train", "The training run: method, steps, batches, optimizer, schedule, evaluation, "
                                     "checkpoints and where the run lives.");
  s.add("full_ft", full_ft, "train every parameter (full fine-tuning) instead of LoRA adapters").alias("full_ft");
  s.add("max_steps", max_steps, "optimizer steps to train").alias("max_steps");
  s.add("per_device_train_batch_size", per_device_train_batch_size, "samples per micro-batch on each device")
      .alias("per_device_train_batch_size");
  s.add("per_device_eval_batch_size", per_device_eval_batch_size, "samples per evaluation batch on each device")
      .alias("per_device_eval_batch_size");
  s.add("gradient_accumulation_steps", gradient_accumulation_steps,
        "micro-batches per optimizer step; the loss is normalised over all their target tokens")
      .alias("gradient_accumulation_steps");
  s.add("learning_rate", learning_rate, "peak learning rate of AdamW").alias("learning_rate");
  s.add("weight_decay", weight_decay, "AdamW weight decay (never on biases or normalisation weights)")
      .alias("weight_decay");
  s.add("lr_scheduler_type", lr_scheduler_type, "cosine, linear or constant, each after the linear warm-up")
      .alias("lr_scheduler_type");
  s.add("warmup_steps", warmup_steps, "steps of linear warm-up from 0 to learning_rate").alias("warmup_steps");
  s.add("max_grad_norm", max_grad_norm, "clip the global gradient L2 norm to this; 0 = no clipping")
      .alias("max_grad_norm");
  s.add("adam_beta1", adam_beta1, "AdamW beta1").alias("adam_beta1");
  s.add("adam_beta2", adam_beta2, "AdamW beta2").alias("adam_beta2");
  s.add("adam_epsilon", adam_epsilon, "AdamW epsilon").alias("adam_epsilon");
  s.add("logging_steps", logging_steps, "log loss, learning rate, grad norm and speed every this many steps")
      .alias("logging_steps");
  s.add("eval_steps", eval_steps, "validation loss every this many steps; 0 = never").alias("eval_steps");
  s.add("max_eval_samples", max_eval_samples, "validation samples per evaluation; 0 = all").alias("max_eval_samples");
  s.add("early_stopping_patience", early_stopping_patience,
        "stop after this many evaluations without improvement; 0 = never")
      .alias("early_stopping_patience");
  s.add("early_stopping_threshold", early_stopping_threshold,
        "an evaluation improves only if the loss drops by more than this")
      .alias("early_stopping_threshold");
  s.add("seed", seed, "seed of the adapters' initialisation, dropout and the data order").alias("seed");
  s.add("save_steps", save_steps, "write checkpoint-{step}/ every this many steps; 0 = only at the end")
      .alias("save_steps");
  s.add("save_total_limit", save_total_limit,
        "keep at most this many checkpoints (never deleting the best or the newest); 0 = all")
      .alias("save_total_limit");
  s.add("output_dir", output_dir, "the run folder; empty: results/{hf_model_id}").alias("output_dir");
  s.add("data_dir", data_dir, "folder of training/validation.jsonl; empty: the prepared dataset of section data")
      .alias("data_dir");
  s.add("resume", resume, "auto (the newest complete checkpoint, if any), never, or a checkpoint folder")
      .alias("resume");
  s.add("device", device, "auto (cuda when available), cpu, cuda or cuda:N").alias("device");
  s.add("precision", precision, "auto (bf16 autocast on a GPU, fp32 on the CPU), fp32 or bf16").alias("precision");
  s.add("activation_checkpointing", activation_checkpointing,
        "recompute each decoder layer in backward instead of keeping its activations")
      .alias("gradient_checkpointing");
  s.add("max_nonfinite_steps", max_nonfinite_steps,
        "abort after this many consecutive steps skipped for a non-finite loss or gradient");
}

void TrainSettings::validate() const {
  auto positive = [](const char* key, int64_t v) {
    if (v < 1) fail("train.{}: expected an integer >= 1, got {}", key, v);
  };
  auto non_negative = [](const char* key, auto v) {
    if (v < 0) fail("train.{}: expected a value >= 0, got {}", key, v);
  };
  positive("max_steps", max_steps);
  positive("per_device_train_batch_size", per_device_train_batch_size);
  positive("per_device_eval_batch_size", per_device_eval_batch_size);
  positive("gradient_accumulation_steps", gradient_accumulation_steps);
  positive("logging_steps", logging_steps);
  positive("max_nonfinite_steps", max_nonfinite_steps);
  if (!(learning_rate > 0)) fail("train.learning_rate: expected a number > 0, got {}", learning_rate);
  non_negative("weight_decay", weight_decay);
  non_negative("warmup_steps", warmup_steps);
  non_negative("max_grad_norm", max_grad_norm);
  non_negative("eval_steps", eval_steps);
  non_negative("max_eval_samples", max_eval_samples);
  non_negative("early_stopping_patience", early_stopping_patience);
  non_negative("early_stopping_threshold", early_stopping_threshold);
  non_negative("save_steps", save_steps);
  non_negative("save_total_limit", save_total_limit);
  if (!(adam_beta1 >= 0 && adam_beta1 < 1)) fail("train.adam_beta1: expected a number in [0, 1), got {}", adam_beta1);
  if (!(adam_beta2 >= 0 && adam_beta2 < 1)) fail("train.adam_beta2: expected a number in [0, 1), got {}", adam_beta2);
  if (!(adam_epsilon > 0)) fail("train.adam_epsilon: expected a number > 0, got {}", adam_epsilon);
  if (lr_scheduler_type != "cosine" && lr_scheduler_type != "linear" && lr_scheduler_type != "constant")
    fail("train.lr_scheduler_type: expected cosine, linear or constant, got '{}'", lr_scheduler_type);
  if (precision != "auto" && precision != "fp32" && precision != "bf16")
    fail("train.precision: expected auto, fp32 or bf16, got '{}'", precision);
  if (early_stopping_patience > 0 && eval_steps == 0)
    fail("train.early_stopping_patience: {} needs evaluations, but train.eval_steps is 0", early_stopping_patience);
}

}  // namespace finch::train
