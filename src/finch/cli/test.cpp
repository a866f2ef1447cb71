// finch test: the newest checkpoint answers the test split; BERTScore and exact match.
#include "finch/cli/commands.h"
#include "finch/eval/test_runner.h"

namespace finch::cli {

void add_test_command(CLI::App& app) {
  auto o = std::make_shared<eval::TestOptions>();
  auto* cmd = app.add_subcommand("test", "Newest checkpoint -> generate on test.jsonl -> BERTScore, exact match");
  auto* checkpoint = cmd->add_option("--checkpoint", o->checkpoint.checkpoint, "the checkpoint folder to test");
  auto* results = cmd->add_option("--results", o->checkpoint.results_dir, "a run folder: its newest complete checkpoint-N");
  cmd->add_option("--hf_model_id,--hf-model-id", o->checkpoint.hf_model_id,
                  "the model trained: the newest complete checkpoint-N of results/{hf_model_id}")
      ->excludes(checkpoint)
      ->excludes(results);
  results->excludes(checkpoint);
  cmd->add_option("--base-model", o->base_model,
                  "base model (Hub id or folder) instead of the adapter's base_model_name_or_path");
  cmd->add_option("--test-file", o->test_file, "the test split (default: the newest test.jsonl under --datasets-dir)");
  cmd->add_option("--datasets-dir", o->datasets_dir, "where finch data prepare wrote datasets")->capture_default_str();
  cmd->add_option("--max-samples", o->max_samples, "test at most this many rows (the first)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", o->batch_size, "prompts decoded together")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o->temperature, "sampling temperature; 0: greedy")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->top_p, "nucleus sampling mass in (0, 1]")->capture_default_str();
  cmd->add_option("--top-k", o->top_k, "sample from the k likeliest tokens; 0: off")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-tokens", o->max_tokens, "new tokens per answer at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", o->seed, "seed of the sampling generator")->capture_default_str();
  cmd->add_flag("--compare-base", o->compare_base, "also test the base model and print both side by side");
  cmd->add_option("--dtype", o->dtype, "auto (bf16 on a GPU, fp32 on the CPU), fp32, bf16 or fp16")->capture_default_str();
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--bertscore-model", o->bertscore.model, "BERTScore encoder: HF folder or Hub id")->capture_default_str();
  cmd->add_option("--bertscore-layers", o->bertscore.num_layers,
                  "BERTScore layer (default: bert-score's for a known Hub id; roberta-large: 17)");
  cmd->add_flag("--bertscore-idf", o->bertscore.idf, "BERTScore with idf weights over the labels");
  cmd->add_option("--bertscore-baseline", o->bertscore.baseline, "bert-score baseline file to rescale with");
  cmd->footer(
      "Writes predictions.jsonl ({\"input\", \"label\", \"prediction\"} per line; base_predictions.jsonl with "
      "--compare-base) and metrics.json into the checkpoint folder.");
  cmd->callback([o] { eval::run_test(*o); });
}

}  // namespace finch::cli
