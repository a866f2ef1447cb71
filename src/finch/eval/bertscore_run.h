// `finch bertscore`: candidates and references from text files, one sentence
// a line (bert-score's CLI), scored with BertScorer.
#pragma once

#include <ATen/ATen.h>

#include <string>

#include "finch/eval/bertscore.h"

namespace finch::eval {

struct BertScoreFiles {
  std::string cands;   // one candidate a line
  std::string refs;    // one reference a line, as many lines as cands
  std::string output;  // optional: per-pair scores as JSON Lines {"precision", "recall", "f1"}
};

// Prints bert-score's system-level line to stdout:
//   "<model>_L<n>_<idf|no-idf>_version=... P: 0.xxxxxx R: 0.xxxxxx F1: 0.xxxxxx"
void run_bertscore(const BertScoreSettings& settings, at::Device device, const BertScoreFiles& files);

}  // namespace finch::eval
