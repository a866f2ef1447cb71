#include "finch/eval/test_runner.h"

#include <chrono>
#include <fstream>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/infer/packed_linear.h"
#include "finch/infer/run.h"
#include "finch/io/hub.h"
#include "finch/model/load.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::eval {
namespace {

namespace fs = std::filesystem;

struct TestRow {
  std::string input, label;
};

std::vector<TestRow> read_test_rows(const fs::path& file, int64_t max_samples) {
  std::ifstream in(file);
  if (!in) fail("{}: cannot open the test split", file.string());
  std::vector<TestRow> rows;
  std::string line;
  for (size_t n = 1; std::getline(in, line) && static_cast<int64_t>(rows.size()) < max_samples; ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error&) {
      fail("{}:{}: not valid JSON", file.string(), n);
    }
    if (!j.is_object() || !j.contains("input") || !j["input"].is_string() || !j.contains("output") ||
        !j["output"].is_string())
      fail("{}:{}: expected {{\"input\": str, \"output\": str}} (a row of finch data prepare)", file.string(), n);
    rows.push_back({j["input"].get<std::string>(), j["output"].get<std::string>()});
  }
  if (rows.empty()) fail("{}: no rows", file.string());
  return rows;
}

std::string strip(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

struct Answers {
  std::vector<std::string> predictions;
  size_t new_tokens = 0;
  double seconds = 0;
};

// One model answers every input; the model is freed before returning.
Answers answer(model::CausalLM lm, const tokenizer::PretrainedTokenizer& tok, const std::vector<TestRow>& rows,
               const infer::GenerationSettings& settings, int64_t batch_size, const std::string& who) {
  infer::pack_linear_weights(*lm, /*release_originals=*/true);
  std::vector<std::vector<int32_t>> prompts;
  for (const auto& r : rows) prompts.push_back(tok.encode_prompt(r.input));
  const auto start = std::chrono::steady_clock::now();
  const auto results = infer::generate_batched(*lm, tok.tokenizer, prompts, settings, batch_size, [&](size_t done, size_t total) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log_info("test: {} {}/{} prompts answered ({:.0f} s)", who, done, total, s);
  });
  Answers a;
  a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& g : results) {
    a.predictions.push_back(g.text);
    a.new_tokens += g.tokens.size();
  }
  return a;
}

void write_predictions(const fs::path& file, const std::vector<TestRow>& rows, const std::vector<std::string>& preds) {
  std::string text;
  for (size_t i = 0; i < rows.size(); ++i) {
    nlohmann::ordered_json line{{"input", rows[i].input}, {"label", rows[i].label}, {"prediction", preds[i]}};
    text += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  write_file_atomic(file, text);
}

nlohmann::ordered_json score(BertScorer& scorer, const std::vector<TestRow>& rows, const Answers& a) {
  std::vector<std::string> refs;
  size_t exact = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    refs.push_back(rows[i].label);
    exact += strip(a.predictions[i]) == strip(rows[i].label);
  }
  const PairScore mean = mean_score(scorer.score(a.predictions, refs));
  return {{"bertscore_precision", mean.precision},
          {"bertscore_recall", mean.recall},
          {"bertscore_f1", mean.f1},
          {"exact_match", static_cast<double>(exact) / static_cast<double>(rows.size())},
          {"new_tokens", a.new_tokens},
          {"generation_seconds", a.seconds},
          {"new_tokens_per_s", static_cast<double>(a.new_tokens) / std::max(a.seconds, 1e-9)}};
}

}  // namespace

fs::path newest_test_file(const fs::path& datasets_dir) {
  if (!fs::is_directory(datasets_dir))
    fail("{}: no datasets folder (prepare one with finch data prepare, or give --test-file)", datasets_dir.string());
  std::optional<fs::path> newest;
  fs::file_time_type newest_time;
  for (const auto& entry : fs::recursive_directory_iterator(datasets_dir)) {
    if (!entry.is_regular_file() || entry.path().filename() != "test.jsonl") continue;
    const auto t = entry.last_write_time();
    if (!newest || t > newest_time) newest = entry.path(), newest_time = t;
  }
  if (!newest) fail("{}: no test.jsonl under it (prepare one with finch data prepare, or give --test-file)",
                    datasets_dir.string());
  return *newest;
}

nlohmann::json run_test(const TestOptions& o) {
  if (o.max_samples < 1) fail("test: --max-samples must be >= 1, got {}", o.max_samples);
  const fs::path checkpoint = find_checkpoint(o.checkpoint);
  const CheckpointInfo info = describe_checkpoint(checkpoint, o.base_model);
  const fs::path test_file = o.test_file.empty() ? newest_test_file(o.datasets_dir) : o.test_file;
  const std::vector<TestRow> rows = read_test_rows(test_file, o.max_samples);
  const at::Device device = parse_device(o.device);
  // Owned weights, so that packing for decoding can free the originals.
  const CheckpointLoadOptions load{infer::resolve_dtype(o.dtype, device), device, /*merge=*/true, /*copy_weights=*/true};
  log_info("test: {} ({}, base {}) on {} rows of {}", checkpoint.string(), kind_name(info.kind), info.base_model,
           rows.size(), test_file.string());

  infer::GenerationSettings settings = infer::read_generation_config(info.base_dir);
  settings.sampling = {o.temperature > 0, o.temperature > 0 ? o.temperature : 1.0, o.top_k, o.top_p};
  settings.max_new_tokens = o.max_tokens;
  settings.seed = o.seed;
  if (const std::string why = infer::check_sampling(settings.sampling); !why.empty()) fail("test: {}", why);
  if (settings.max_new_tokens < 1) fail("test: --max-tokens must be >= 1, got {}", settings.max_new_tokens);

  const auto tok = tokenizer::PretrainedTokenizer::from_dir(info.tokenizer_dir);
  const Answers tuned = answer(load_checkpoint_model(info, load), tok, rows, settings, o.batch_size, "fine-tuned");
  write_predictions(checkpoint / "predictions.jsonl", rows, tuned.predictions);
  std::optional<Answers> base;
  if (o.compare_base) {
    if (info.kind != CheckpointKind::lora_adapter && info.base_model.empty())
      fail("test: --compare-base: {} does not name its base model (give --base-model)", checkpoint.string());
    const fs::path base_dir = info.kind == CheckpointKind::lora_adapter ? info.base_dir : io::hub::model_dir(info.base_model);
    base = answer(model::load_causal_lm(base_dir, {load.dtype, load.device, /*copy_weights=*/true}),
                  tokenizer::PretrainedTokenizer::from_dir(base_dir), rows, settings, o.batch_size, "base");
    write_predictions(checkpoint / "base_predictions.jsonl", rows, base->predictions);
  }

  BertScorer scorer(o.bertscore, device);
  nlohmann::ordered_json metrics{{"checkpoint", checkpoint.string()},
                                 {"base_model", info.base_model},
                                 {"test_file", test_file.string()},
                                 {"samples", rows.size()},
                                 {"bertscore", scorer.describe()},
                                 {"generation", {{"temperature", o.temperature},
                                                 {"top_p", o.top_p},
                                                 {"top_k", o.top_k},
                                                 {"max_tokens", o.max_tokens},
                                                 {"seed", o.seed}}},
                                 {"fine_tuned", score(scorer, rows, tuned)}};
  if (base) metrics["base"] = score(scorer, rows, *base);
  write_file_atomic(checkpoint / "metrics.json", metrics.dump(2) + "\n");

  // The summary: one column per model.
  const auto row = [&](const char* name, const char* key, const char* format) {
    std::string line = fmt::format("  {:<22}", name);
    line += fmt::format(fmt::runtime(format), metrics["fine_tuned"][key].get<double>());
    if (base) line += fmt::format(fmt::runtime(format), metrics["base"][key].get<double>());
    fmt::print(stderr, "{}\n", line);
  };
  fmt::print(stderr, "finch test: {} rows of {}; BERTScore {}\n", rows.size(), test_file.string(), scorer.describe());
  fmt::print(stderr, "  {:<22}{:>12}{}\n", "", "fine-tuned", base ? fmt::format("{:>12}", "base") : "");
  row("BERTScore F1", "bertscore_f1", "{:>12.4f}");
  row("BERTScore precision", "bertscore_precision", "{:>12.4f}");
  row("BERTScore recall", "bertscore_recall", "{:>12.4f}");
  row("exact match", "exact_match", "{:>12.4f}");
  row("new tokens/s", "new_tokens_per_s", "{:>12.1f}");
  fmt::print(stderr, "  predictions: {}\n  metrics:     {}\n", (checkpoint / "predictions.jsonl").string(),
             (checkpoint / "metrics.json").string());
  return metrics;
}

}  // namespace finch::eval
