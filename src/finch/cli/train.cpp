// finch train: LoRA or full fine-tuning of model.hf_model_id on the prepared dataset.
#include "finch/cli/commands.h"
#include "finch/cli/settings.h"
#include "finch/core/log.h"
#include "finch/dist/env.h"
#include "finch/dist/launcher.h"
#include "finch/train/run.h"

namespace finch::cli {

void add_train_command(CLI::App& app) {
  auto settings = std::make_shared<Settings>();
  auto* cmd = app.add_subcommand("train", "LoRA or full fine-tuning with checkpoints, evaluation and logs");
  auto flags = std::make_shared<SettingsFlags>(*cmd, *settings);
  cmd->footer(
      "Settings: sections model, data, train, lora and parallel (finch config docs). The run folder (train.output_dir, "
      "default results/{hf_model_id}) receives config.yaml, checkpoint-{step}/, final/ and logs/ "
      "(TensorBoard events, metrics.jsonl). A run resumes from its newest complete checkpoint unless "
      "--train.resume=never. SIGTERM or SIGINT saves a checkpoint and exits. --nproc-per-node N starts N ranks "
      "(torchrun's environment) and restarts them all from the newest checkpoint when one fails, at most "
      "--max-restarts times; started by torchrun --no-python, srun or mpirun, the ranks train data parallel "
      "(docs/distributed.md).");
  cmd->callback([settings, flags] {
    flags->resolve();
    // Every setting is checked before any work starts (and before the table is printed).
    settings->data.validate();
    settings->train.validate();
    if (!settings->train.full_ft) settings->lora.validate();
    settings->parallel.validate();
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
    train::RunSettings run{settings->model, settings->data,     settings->train,
                           settings->lora,  settings->parallel, settings->registry.to_yaml()};
    train::run_training(run);
  });
}

}  // namespace finch::cli
