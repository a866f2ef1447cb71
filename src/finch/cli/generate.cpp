// finch generate: text generation from a model (+ a PEFT adapter), plain or chat.
#include "finch/cli/commands.h"
#include "finch/infer/run.h"

namespace finch::cli {

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<infer::GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "Text generation from a model (+ adapter), plain or chat");
  cmd->add_option("--model", o->model, "HF model directory or Hub id")->required();
  cmd->add_option("--adapter", o->adapter, "PEFT adapter directory, merged into the model");
  auto* prompt = cmd->add_option("--prompt", o->prompts, "a prompt (repeatable); the answers go to stdout");
  auto* input = cmd->add_option("--input", o->input,
                                "JSONL, one {\"prompt\": str}, {\"input\": str} (a test.jsonl row) or "
                                "{\"messages\": [...]} per line");
  prompt->excludes(input);
  cmd->add_option("--output", o->output, "write JSONL results here (default: stdout)");
  cmd->add_flag("--chat", o->chat, "render each prompt as one user turn with the model's chat template");
  cmd->add_option("--max-new-tokens", o->max_new_tokens,
                  "new tokens per prompt at most (default: generation_config.json's, else 256)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", o->temperature, "0: greedy; > 0: sample (default: generation_config.json)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", o->top_k, "sample from the k likeliest tokens; 0: off (default: generation_config.json, else 50)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-p", o->top_p, "nucleus sampling mass in (0, 1] (default: generation_config.json, else 1)");
  cmd->add_option("--seed", o->seed, "seed of the sampling generator")->capture_default_str();
  cmd->add_option("--stop", o->stop, "stop a row when its text contains this string, cut there (repeatable)");
  cmd->add_option("--batch-size", o->batch_size, "prompts decoded together")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--dtype", o->dtype, "auto (bf16 on a GPU, fp32 on the CPU), fp32, bf16 or fp16")->capture_default_str();
  cmd->add_option("--device", o->device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  cmd->footer(
      "Rows stop at an EOS token of generation_config.json, at a --stop string, or after --max-new-tokens. "
      "JSONL output echoes each input line with \"generation\", \"finish_reason\" (eos, stop, length) and "
      "\"new_tokens\" added.");
  cmd->callback([o] { infer::run_generate(*o); });
}

}  // namespace finch::cli
