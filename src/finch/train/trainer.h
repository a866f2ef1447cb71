// The training loop: one process, CPU or one GPU, with HF Trainer's numbers.
//
// Each optimizer step takes gradient_accumulation_steps micro-batches from
// the loader, counts their target tokens N (HF's num_items_in_batch), and
// back-propagates sum(-log p) / N of each, so the step's gradient is that of
// the mean over all N targets; the step's loss is that mean. The global
// gradient norm is clipped to max_grad_norm, then AdamW steps with the
// schedule's rate for that step. A non-finite loss or gradient norm skips the
// update (counted, logged; max_nonfinite_steps in a row abort the run).
//
// Data parallel (a World of several ranks): each rank takes its slice of
// every global batch (data::Sampler's DistributedSampler split, so N ranks of
// per_device_train_batch_size b see the samples one process of batch N*b
// sees); N is the target count of the whole global batch (summed across
// ranks), the gradients are summed across ranks in buckets during the last
// micro-batch's backward (dist::GradientSync), and the logged loss, token
// counts and evaluation loss are those of the whole global batch. Clipping
// and the update then run on identical gradients on every rank. Checkpoints
// and final/ are written by rank 0 with a barrier after; every rank resumes
// from the same checkpoint; a stop signal received by any rank stops all of
// them after the same step.
//
// Named points call the callbacks in order: train begin, after each step an
// evaluation when due (then "evaluate"), "step end", "save" after each
// checkpoint, train end. Logging, early stopping and checkpointing are such
// callbacks (train/callbacks.h); a program adds its own the same way.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "finch/data/loader.h"
#include "finch/dist/world.h"
#include "finch/io/sharded_state.h"
#include "finch/model/causal_lm.h"
#include "finch/peft/lora.h"
#include "finch/train/optimizer.h"
#include "finch/train/schedule.h"
#include "finch/train/settings.h"

namespace finch::dist {
class FullySharded;
class GradientSync;
}

namespace finch::train {

// One optimizer step, as the callbacks see it.
struct StepLog {
  int64_t step = 0;  // 1-based: the number of steps done
  double loss = 0;   // mean over the step's target tokens
  double grad_norm = 0;
  double learning_rate = 0;  // the rate this step's update used
  int64_t tokens = 0;        // input tokens (padding excluded)
  int64_t targets = 0;       // target tokens (num_items_in_batch)
  double seconds = 0;
  bool skipped = false;  // non-finite loss or gradient: no update
};

// What a checkpoint restores besides tensors (trainer_state.json).
struct TrainerState {
  int64_t global_step = 0;
  std::optional<double> best_metric;  // lowest validation loss
  int64_t best_step = 0;
  std::string best_checkpoint;  // folder name of the checkpoint saved at best_step, if any
  int64_t evals_without_improvement = 0;
  int64_t skipped_steps = 0, nonfinite_in_row = 0;
  int64_t tokens_seen = 0;
  nlohmann::json log_history = nlohmann::json::array();  // HF's: {"step", "loss", ...} and {"step", "eval_loss"}
  nlohmann::json callbacks = nlohmann::json::object();  // state callbacks keep across a resume, by name

  nlohmann::json to_json() const;
  static TrainerState from_json(const nlohmann::json& j, const std::string& where);
};

struct TrainerData {
  std::shared_ptr<const data::SampleSet> train;
  std::shared_ptr<const data::SampleSet> eval;  // may be null: no evaluation
  data::CollateOptions collate;
  bool shuffle = true;  // false: samples in order (tests)
};

// What checkpoints record about the model.
struct ModelSource {
  std::string name;                  // base_model_name_or_path of adapters (the Hub id or folder given)
  std::filesystem::path dir;         // its folder: config.json and tokenizer files are copied from here
};

class Trainer;

class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer&) {}
  virtual void on_evaluate(Trainer&, double /*eval_loss*/) {}
  virtual void on_step_end(Trainer&, const StepLog&) {}
  virtual void on_save(Trainer&, const std::filesystem::path& /*checkpoint*/) {}
  virtual void on_train_end(Trainer&) {}
};

class Trainer {
 public:
  // `model` is on its device and ready: LoRA injected (only adapters require
  // grad) or not (full fine-tuning: every parameter trains). `world`: the
  // ranks of a data-parallel run; null or of size 1: one process.
  // `fully_sharded` (parallel.strategy fsdp): the parameters, gradients and
  // optimizer state are sharded across the world's ranks (train/fully_sharded.h);
  // the model's layer runner is replaced by the gathering, checkpointing one.
  // `offload_params` (fully sharded only): the shards, their gradients and the
  // optimizer state live in CPU memory (the optimizer steps there).
  Trainer(TrainSettings settings, peft::LoraSettings lora, model::CausalLM model, TrainerData data,
          ModelSource source, std::filesystem::path output_dir, std::shared_ptr<const dist::World> world = nullptr,
          bool fully_sharded = false, bool offload_params = false);
  ~Trainer();

  void add_callback(std::shared_ptr<Callback> callback);
  // Resumes as settings().resume says, then trains to max_steps or until a stop is requested.
  void train();
  // Validation loss over up to max_eval_samples (HF's: the mean of batch means weighted by rows).
  double evaluate();
  // Writes checkpoint-{step}/ (atomically; rank 0 writes, every rank waits
  // for it) and runs the "save" callbacks; returns its folder. Collective.
  std::filesystem::path save_checkpoint();
  // Writes final/: the adapter or the model, with config and tokenizer files. Collective.
  std::filesystem::path save_final();
  // Ends training after the current step (early stopping, a signal).
  void request_stop(const std::string& reason);

  const TrainSettings& settings() const { return settings_; }
  const peft::LoraSettings& lora() const { return lora_; }
  model::CausalLM& model() { return model_; }
  TrainerState& state() { return state_; }
  const std::filesystem::path& output_dir() const { return output_dir_; }
  at::Device device() const { return device_; }
  const dist::World& world() const { return *world_; }
  // Rank 0 (or the only process): the one that logs and writes files.
  bool is_main() const { return world_->is_main(); }
  // The stop signal as every rank saw it at the end of the last step (0: none):
  // a signal any rank received, agreed on by all so they stop together.
  int stop_signal() const { return stop_signal_; }
  bool stop_requested() const { return !stop_reason_.empty(); }
  const std::string& stop_reason() const { return stop_reason_; }
  // Set by a SIGTERM/SIGINT handler: save a checkpoint and stop after the current step.
  static std::atomic<int>& signal_flag();

 private:
  StepLog train_step();
  void resume();
  void restore(const std::filesystem::path& checkpoint);
  void restore_consolidated(const std::filesystem::path& checkpoint);
  void restore_shards(const std::filesystem::path& checkpoint);
  // The trainable weights and the model's small files (config, tokenizer).
  void write_model(const std::filesystem::path& dir);
  void write_model_files(const std::filesystem::path& dir);
  std::string published_name(const std::string& name) const;
  io::sharded::Manifest shard_manifest() const;
  // Bytes of parameters and optimizer state this rank holds.
  std::pair<int64_t, int64_t> held_bytes() const;
  nlohmann::json run_identity() const;

  TrainSettings settings_;
  peft::LoraSettings lora_;
  model::CausalLM model_;
  TrainerData data_;
  ModelSource source_;
  std::filesystem::path output_dir_;
  at::Device device_;
  bool bf16_ = false;
  std::vector<NamedParameter> trainable_;
  std::unique_ptr<AdamW> optimizer_;
  Schedule schedule_;
  std::unique_ptr<data::Loader> loader_;
  TrainerState state_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  std::string stop_reason_;
  std::shared_ptr<const dist::World> world_;
  std::unique_ptr<dist::GradientSync> grad_sync_;  // null for one process and fully sharded runs
  std::shared_ptr<dist::FullySharded> sharded_;     // null unless fully sharded
  size_t root_unit_ = 0;                            // sharded_'s unit of embeddings, norm and head
  int stop_signal_ = 0;
  int64_t checkpoints_written_ = 0;  // names each save's store key
};

}  // namespace finch::train
