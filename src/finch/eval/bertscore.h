// BERTScore (Zhang et al., 2020) exactly as the `bert-score` package 0.3.13
// computes it (bert_score.score): each sentence is encoded by a BERT-family
// encoder, the hidden states of layer `num_layers` are L2-normalised, every
// candidate token is matched to its most similar reference token (precision)
// and every reference token to its most similar candidate token (recall),
// weighted by idf or uniformly, [CLS]/[SEP] (<s>/</s>) weighted 0.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace finch::eval {

struct BertScoreSettings {
  // An HF encoder directory or Hub id. bert-score's English default.
  std::string model = "roberta-large";
  // The hidden state scored (0 = embeddings). Default: bert-score's tuned
  // layer for a Hub id it knows (roberta-large: 17); required otherwise.
  std::optional<int64_t> num_layers;
  // Weight tokens by idf computed over the references (bert-score's idf=True).
  bool idf = false;
  // A bert-score baseline file (CSV: a header, then one row per layer:
  // LAYER,P,R,F): scores become (x - b) / (1 - b). Empty: no rescaling.
  std::string baseline;
  int64_t batch_size = 64;  // sentences per forward pass, and pairs per matching batch
};

struct PairScore {
  double precision = 0, recall = 0, f1 = 0;
};

class BertScorer {
 public:
  BertScorer(const BertScoreSettings& settings, at::Device device = at::kCPU);
  BertScorer(BertScorer&&) noexcept;
  ~BertScorer();

  // One score per (candidate, reference) pair; the lists must be equally long.
  std::vector<PairScore> score(const std::vector<std::string>& cands, const std::vector<std::string>& refs);

  // bert_score.utils.sent_encode: strip, then the tokenizer's ids with its
  // special tokens, cut to model_max_length; "" -> [CLS] [SEP].
  std::vector<std::vector<int32_t>> encode(const std::vector<std::string>& sentences) const;

  int64_t num_layers() const;
  // A short description of the settings, like bert-score's hash:
  // "roberta-large_L17_no-idf_version=0.3.13(finch)[-custom-rescaled]".
  std::string describe() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// bert-score's tuned layer for a Hub model id it knows (BERT and RoBERTa
// families), e.g. "roberta-large" or "FacebookAI/roberta-large" -> 17.
std::optional<int64_t> default_num_layers(const std::string& model_id);

// The mean of each score (bert-score's system-level result).
PairScore mean_score(const std::vector<PairScore>& scores);

}  // namespace finch::eval
