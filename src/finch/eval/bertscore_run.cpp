#include "finch/eval/bertscore_run.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/eval/text_lines.h"

namespace finch::eval {

void run_bertscore(const BertScoreSettings& settings, at::Device device, const BertScoreFiles& files) {
  const auto cands = read_lines(files.cands);
  const auto refs = read_lines(files.refs);
  if (cands.size() != refs.size())
    fail("{} has {} lines but {} has {}: candidates and references are scored line by line", files.cands,
         cands.size(), files.refs, refs.size());
  if (cands.empty()) fail("{}: no candidates (the file is empty)", files.cands);
  BertScorer scorer(settings, device);
  const auto start = std::chrono::steady_clock::now();
  const auto scores = scorer.score(cands, refs);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log_info("bertscore: {} pairs in {:.2f} s", scores.size(), seconds);
  if (!files.output.empty()) {
    std::string text;
    for (const auto& s : scores)
      text += nlohmann::ordered_json{{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}}.dump() + "\n";
    write_file_atomic(files.output, text);
  }
  const PairScore mean = mean_score(scores);
  fmt::print("{} P: {:.6f} R: {:.6f} F1: {:.6f}\n", scorer.describe(), mean.precision, mean.recall, mean.f1);
}

}  // namespace finch::eval
