// The built-in callbacks, written on the same interface a program uses.
#pragma once

#include <chrono>
#include <memory>

#include "finch/train/event_writer.h"
#include "finch/train/trainer.h"

namespace finch::train {

// Every logging_steps: a progress line (step, loss, lr, grad norm, tokens/s,
// ETA, memory), a line of logs/metrics.jsonl, TensorBoard scalars in logs/
// (train/loss, train/lr, train/grad_norm, train/tokens_per_s, train/memory_gib,
// eval/loss) and HF's log_history; a summary at the end. The loss logged is
// the mean of the step losses since the last log (HF's). In a data-parallel
// run rank 0 writes all of it; the loss and tokens/s are the whole global
// batch's, the memory the largest peak of any rank.
class LoggingCallback : public Callback {
 public:
  void on_train_begin(Trainer& trainer) override;
  void on_evaluate(Trainer& trainer, double eval_loss) override;
  void on_step_end(Trainer& trainer, const StepLog& step) override;
  void on_train_end(Trainer& trainer) override;

 private:
  void append_metrics(Trainer& trainer, const nlohmann::json& line);
  std::unique_ptr<EventWriter> events_;
  std::chrono::steady_clock::time_point start_;
  int64_t start_step_ = 0, start_tokens_ = 0;
  double window_seconds_ = 0;
  int64_t window_tokens_ = 0;
};

// Stops when early_stopping_patience evaluations in a row did not improve
// the validation loss by more than early_stopping_threshold.
class EarlyStoppingCallback : public Callback {
 public:
  void on_evaluate(Trainer& trainer, double eval_loss) override;
};

// checkpoint-{step}/ every save_steps, rotated to save_total_limit (never
// the best or the newest); on a signal a checkpoint of the current step; at
// the end of a run that was not interrupted, final/.
class CheckpointCallback : public Callback {
 public:
  void on_step_end(Trainer& trainer, const StepLog& step) override;
  void on_save(Trainer& trainer, const std::filesystem::path& checkpoint) override;
  void on_train_end(Trainer& trainer) override;

 private:
  int64_t saved_step_ = -1;
};

// The three above, in that order.
void add_default_callbacks(Trainer& trainer);

// Peak memory of this process: the CUDA caching allocator's peak on a GPU,
// else the peak resident set size (VmHWM), in bytes.
int64_t peak_memory(at::Device device);

}  // namespace finch::train
