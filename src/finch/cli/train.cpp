// finch train: LoRA or full fine-tuning of model.hf_model_id on the prepared dataset.
#include "finch/cli/commands.h"
#include "finch/cli/settings.h"
#include "finch/core/log.h"
#include "finch/train/dry_run.h"
#include "finch/train/run.h"

namespace finch::cli {

void add_train_command(CLI::App& app) {
  auto settings = std::make_shared<Settings>();
  auto dry_run = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("train", "LoRA or full fine-tuning with checkpoints, evaluation and logs");
  auto flags = std::make_shared<SettingsFlags>(*cmd, *settings);
  cmd->add_flag("--dry-run", *dry_run,
                "print the resolved settings, the parameter counts (trainable / total) and the estimated memory per "
                "GPU, reading only the model's config.json (no weights, no data), and exit");
  cmd->footer(
      "Settings: sections model, data, train, lora and parallel (finch config docs). The run folder "
      "(train.output_dir, default results/{hf_model_id}) receives config.yaml, checkpoint-{step}/, final/ and logs/ "
      "(TensorBoard events, metrics.jsonl). A run resumes from its newest complete checkpoint unless "
      "--train.resume=never. SIGTERM or SIGINT saves a checkpoint and exits. Ready configurations: configs/ "
      "(try --config configs/qwen3-8b-lora.yaml --dry-run).");
  cmd->callback([settings, flags, dry_run] {
    flags->resolve();
    train::RunSettings run{settings->model, settings->data, settings->train, settings->lora,
                           settings->registry.to_yaml(), settings->parallel};
    // Every setting is checked before any work starts (and before the table is printed).
    train::validate_run(run, *dry_run);
    if (*dry_run) {
      // The settings exactly as `finch config show` prints them, then the estimate.
      fmt::print("{}\n{}", run.config_yaml, train::dry_run_report(run));
      return;
    }
    log_info("settings:\n{}", settings->registry.table());
    train::run_training(run);
  });
}

}  // namespace finch::cli
