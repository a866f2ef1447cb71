// finch train: LoRA or full fine-tuning of model.hf_model_id on the prepared dataset.
#include "finch/cli/commands.h"
#include "finch/cli/settings.h"
#include "finch/core/log.h"
#include "finch/dist/env.h"
#include "finch/dist/launcher.h"
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
      "Settings: sections model, data, train, lora and parallel (finch config docs). The run folder (train.output_dir, "
      "default results/{hf_model_id}) receives config.yaml, checkpoint-{step}/, final/ and logs/ "
      "(TensorBoard events, metrics.jsonl). A run resumes from its newest complete checkpoint unless "
      "--train.resume=never. SIGTERM or SIGINT saves a checkpoint and exits. --nproc-per-node N starts N ranks "
      "(torchrun's environment) and restarts them all from the newest checkpoint when one fails, at most "
      "--max-restarts times; started by torchrun --no-python, srun or mpirun, the ranks train data parallel "
      "(docs/distributed.md). Ready configurations: configs/ (try --config configs/qwen3-8b-lora.yaml --dry-run).");
  cmd->callback([settings, flags, dry_run] {
    flags->resolve();
    train::RunSettings run{settings->model, settings->data,     settings->train,
                           settings->lora,  settings->parallel, settings->registry.to_yaml()};
    // Every setting is checked before any work starts (and before the table is printed).
    train::validate_run(run, *dry_run);
    if (*dry_run) {
      // The settings exactly as `finch config show` prints them, then the estimate.
      fmt::print("{}\n{}", run.config_yaml, train::dry_run_report(run));
      return;
    }
    // The launcher: this same command line once per rank. A process that a
    // launcher started (RANK is set) is a rank and never launches.
    if (settings->parallel.nproc_per_node > 1 && !dist::launched_rank()) {
      dist::launch({.program = "/proc/self/exe",
                    .argv = dist::own_command_line(),
                    .nproc_per_node = settings->parallel.nproc_per_node,
                    .max_restarts = settings->parallel.max_restarts});
      return;
    }
    // Ranks of a multi-process run print the same table: rank 0 alone does
    // (a half-set launch environment fails here, before any work).
    if (dist::launch_env().rank == 0) log_info("settings:\n{}", settings->registry.table());
    train::run_training(run);
  });
}

}  // namespace finch::cli
