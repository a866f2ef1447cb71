#include "finch/train/callbacks.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/io/checkpoint_dir.h"

namespace finch::train {
namespace fs = std::filesystem;

namespace {

fs::path metrics_file(const Trainer& t) { return t.output_dir() / "logs" / "metrics.jsonl"; }

std::string duration_text(double seconds) {
  const auto s = static_cast<int64_t>(std::max(0.0, seconds));
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

double gib(int64_t bytes) { return static_cast<double>(bytes) / (1 << 30); }

// The logging window (since the last log line), kept in the trainer state so
// that a resumed run logs what the uninterrupted one would have.
struct Window {
  double loss_sum = 0;
  int64_t steps = 0;
};

Window window_of(Trainer& t) {
  const auto& j = t.state().callbacks;
  if (!j.contains("logging")) return {};
  const auto& w = j["logging"];
  return {w.at("loss_sum").get<double>(), w.at("steps").get<int64_t>()};
}

void store_window(Trainer& t, const Window& w) {
  t.state().callbacks["logging"] = {{"loss_sum", w.loss_sum}, {"steps", w.steps}};
}

}  // namespace

int64_t peak_memory(at::Device device) {
  if (device.is_cuda()) return peak_device_memory(device);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "VmHWM:   123 kB"
  return 0;
}

void LoggingCallback::on_train_begin(Trainer& t) {
  start_ = std::chrono::steady_clock::now();
  start_step_ = t.state().global_step;
  start_tokens_ = t.state().tokens_seen;
  reset_peak_device_memory(t.device());
  if (!t.is_main()) return;  // one rank writes the logs
  fs::create_directories(t.output_dir() / "logs");
  events_ = std::make_unique<EventWriter>(t.output_dir() / "logs");
  // A resumed run continues the metrics of the checkpoint: lines past it (from
  // the run that was stopped) are dropped.
  if (fs::exists(metrics_file(t))) {
    std::istringstream in(read_text_file(metrics_file(t)));
    std::string line, kept;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_discarded() && j.value("step", int64_t{0}) <= t.state().global_step) kept += line + "\n";
    }
    write_file_atomic(metrics_file(t), kept);
  }
  const auto trainable = [&] {
    int64_t n = 0, all = 0;
    for (const auto& p : t.model()->parameters()) {
      all += p.numel();
      if (p.requires_grad()) n += p.numel();
    }
    return std::make_pair(n, all);
  }();
  log_info("training {} on {}: {} of {} parameters trainable ({:.2f}%), {} steps{}",
           t.settings().full_ft ? "every parameter" : "LoRA adapters", t.device().str(), trainable.first,
           trainable.second, 100.0 * static_cast<double>(trainable.first) / static_cast<double>(trainable.second),
           t.settings().max_steps,
           start_step_ > 0 ? fmt::format(", resuming at step {}", start_step_) : std::string());
  if (t.world().distributed())
    log_info("data parallel over {} ranks ({}): {} samples per rank per micro-batch, {} per optimizer step",
             t.world().size(), t.world().backend_name(), t.settings().per_device_train_batch_size,
             t.settings().per_device_train_batch_size * t.settings().gradient_accumulation_steps * t.world().size());
}

void LoggingCallback::append_metrics(Trainer& t, const nlohmann::json& line) {
  std::ofstream out(metrics_file(t), std::ios::app);
  out << line.dump() << "\n";
  out.flush();
}

void LoggingCallback::on_evaluate(Trainer& t, double eval_loss) {
  const int64_t step = t.state().global_step;
  const nlohmann::json line = {{"step", step}, {"eval_loss", eval_loss}};
  t.state().log_history.push_back(line);
  if (!t.is_main()) return;
  log_info("step {}: eval loss {:.4f} (best {:.4f} at step {})", step, eval_loss, *t.state().best_metric,
           t.state().best_step);
  events_->scalar("eval/loss", eval_loss, step);
  append_metrics(t, line);
}

void LoggingCallback::on_step_end(Trainer& t, const StepLog& s) {
  Window w = window_of(t);
  if (std::isfinite(s.loss)) {  // a skipped step's loss is left out of the mean (HF's logging_nan_inf_filter)
    w.loss_sum += s.loss;
    w.steps += 1;
  }
  window_seconds_ += s.seconds;
  window_tokens_ += s.tokens;
  const TrainSettings& settings = t.settings();
  if (s.step % settings.logging_steps != 0 && s.step != settings.max_steps) return store_window(t, w);
  const double loss = w.steps ? w.loss_sum / static_cast<double>(w.steps) : std::nan("");
  const double tokens_per_s = static_cast<double>(window_tokens_) / std::max(window_seconds_, 1e-9);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = elapsed / static_cast<double>(s.step - start_step_) * static_cast<double>(settings.max_steps - s.step);
  // The largest of the ranks' peaks (the one that runs out first).
  int64_t memory = peak_memory(t.device());
  if (t.world().distributed()) {
    at::Tensor m = at::tensor({static_cast<double>(memory)}, at::TensorOptions(at::kDouble)).to(t.world().device());
    t.world().all_reduce(m, c10d::ReduceOp::MAX);
    memory = static_cast<int64_t>(m.cpu().item<double>());
  }
  const nlohmann::json line = {{"step", s.step},           {"loss", loss},
                               {"grad_norm", s.grad_norm}, {"learning_rate", s.learning_rate},
                               {"tokens_per_s", tokens_per_s}, {"memory_bytes", memory},
                               {"skipped_steps", t.state().skipped_steps}};
  t.state().log_history.push_back(line);
  if (t.is_main()) {
    log_info("step {}/{} | loss {:.4f} | lr {:.3e} | grad norm {:.4f} | {:.0f} tok/s | ETA {} | mem {:.2f} GiB{}",
             s.step, settings.max_steps, loss, s.learning_rate, s.grad_norm, tokens_per_s, duration_text(eta),
             gib(memory), t.state().skipped_steps ? fmt::format(" | skipped {}", t.state().skipped_steps) : "");
    events_->scalar("train/loss", loss, s.step);
    events_->scalar("train/lr", s.learning_rate, s.step);
    events_->scalar("train/grad_norm", s.grad_norm, s.step);
    events_->scalar("train/tokens_per_s", tokens_per_s, s.step);
    events_->scalar("train/memory_gib", gib(memory), s.step);
    append_metrics(t, line);
  }
  store_window(t, {});
  window_seconds_ = 0;
  window_tokens_ = 0;
}

void LoggingCallback::on_train_end(Trainer& t) {
  if (!t.is_main()) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto& st = t.state();
  std::string best = st.best_metric ? fmt::format(", best eval loss {:.4f} at step {}{}", *st.best_metric,
                                                  st.best_step,
                                                  st.best_checkpoint.empty() ? "" : " (" + st.best_checkpoint + ")")
                                    : "";
  const int64_t tokens = st.tokens_seen - start_tokens_;
  log_info("{} at step {}/{} after {} ({:.2f} s, {} tokens, {:.1f} tokens/s){}{}{}",
           t.stop_requested() ? t.stop_reason() : "finished", st.global_step, t.settings().max_steps,
           duration_text(elapsed), elapsed, tokens, static_cast<double>(tokens) / std::max(elapsed, 1e-9), best,
           st.skipped_steps ? fmt::format(", {} steps skipped (non-finite)", st.skipped_steps) : "",
           fmt::format(", peak memory {:.2f} GiB", gib(peak_memory(t.device()))));
  if (events_) events_->flush();
}

void EarlyStoppingCallback::on_evaluate(Trainer& t, double) {
  const int64_t patience = t.settings().early_stopping_patience;
  if (patience > 0 && t.state().evals_without_improvement >= patience)
    t.request_stop(fmt::format("early stopping ({} evaluations without improvement)", patience));
}

void CheckpointCallback::on_step_end(Trainer& t, const StepLog& s) {
  const int64_t every = t.settings().save_steps;
  if (every > 0 && s.step % every == 0) {
    t.save_checkpoint();
    saved_step_ = s.step;
  }
}

void CheckpointCallback::on_save(Trainer& t, const fs::path&) {
  const int64_t limit = t.settings().save_total_limit;
  if (limit <= 0 || !t.is_main()) return;
  std::optional<fs::path> best;
  if (!t.state().best_checkpoint.empty()) best = t.output_dir() / t.state().best_checkpoint;
  io::rotate_checkpoints(t.output_dir(), limit, best);
}

void CheckpointCallback::on_train_end(Trainer& t) {
  const bool signalled = t.stop_signal() != 0;
  if (signalled && saved_step_ != t.state().global_step) t.save_checkpoint();
  if (!signalled || t.state().global_step >= t.settings().max_steps) t.save_final();
}

void add_default_callbacks(Trainer& trainer) {
  trainer.add_callback(std::make_shared<LoggingCallback>());
  trainer.add_callback(std::make_shared<EarlyStoppingCallback>());
  trainer.add_callback(std::make_shared<CheckpointCallback>());
}

}  // namespace finch::train
