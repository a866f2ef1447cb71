// BERTScore parity with the bert-score package 0.3.13 (references from
// gen/make_bertscore_cases.py): the real all-MiniLM-L6-v2 at layers 0-6, with
// and without idf, with a baseline file; a tiny random RoBERTa (truncation at
// 24 tokens). Per pair |P|, |R|, |F| differences <= 1e-4 (measured: <= 1.2e-6).
// Tokenization (sent_encode's ids) must be equal, and encoders' hidden states
// (BERT, BertForMaskedLM with gamma/beta names, RoBERTa, XLM-RoBERTa) within
// 1e-4 of transformers' on a padded batch, at real tokens.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finch/core/error.h"
#include "finch/eval/bertscore.h"
#include "finch/io/safetensors.h"
#include "finch/model/encoder.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch {
namespace {

const std::filesystem::path kDir = std::filesystem::path(FINCH_PARITY_DIR) / "bertscore";

nlohmann::json cases() {
  std::ifstream in(kDir / "cases.json");
  if (!in) throw std::runtime_error((kDir / "cases.json").string() + ": no references; run through ctest");
  return nlohmann::json::parse(in);
}

using eval::BertScoreSettings;
using eval::BertScorer;
using eval::default_num_layers;
using model::Encoder;
using model::load_encoder;

TEST(BertScoreParity, ScoresMatchBertScore) {
  const auto all = cases();
  for (const auto& c : all["cases"]) {
    BertScoreSettings settings;
    settings.model = c["model"];
    settings.num_layers = c["num_layers"].get<int64_t>();
    settings.idf = c["idf"];
    settings.batch_size = c["batch_size"];
    if (!c["baseline"].is_null()) settings.baseline = c["baseline"];
    BertScorer scorer(settings);
    const auto scores = scorer.score(c["cands"], c["refs"]);
    ASSERT_EQ(scores.size(), c["P"].size());
    double worst = 0;
    for (size_t i = 0; i < scores.size(); ++i) {
      const double dp = std::abs(scores[i].precision - c["P"][i].get<double>());
      const double dr = std::abs(scores[i].recall - c["R"][i].get<double>());
      const double df = std::abs(scores[i].f1 - c["F"][i].get<double>());
      EXPECT_LE(std::max({dp, dr, df}), 1e-4) << c["name"] << " pair " << i << ": P " << scores[i].precision << " vs "
                                               << c["P"][i] << ", R " << scores[i].recall << " vs " << c["R"][i]
                                               << ", F " << scores[i].f1 << " vs " << c["F"][i];
      worst = std::max({worst, dp, dr, df});
    }
    std::cout << c["name"].get<std::string>() << ": max |diff| " << worst << "\n";
  }
}

TEST(BertScoreParity, DefaultLayersAreBertScores) {
  EXPECT_EQ(default_num_layers("roberta-large"), 17);
  EXPECT_EQ(default_num_layers("FacebookAI/roberta-large"), 17);
  EXPECT_EQ(default_num_layers("bert-base-uncased"), 9);
  EXPECT_EQ(default_num_layers("google-bert/bert-base-uncased"), 9);
  EXPECT_EQ(default_num_layers("some/unknown-model"), std::nullopt);
}

TEST(BertScoreParity, BadLayerNamesTheLayerCount) {
  const auto all = cases();
  BertScoreSettings settings;
  settings.model = all["cases"][0]["model"];
  settings.num_layers = 7;
  try {
    BertScorer scorer(settings);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("it has 6 layers"), std::string::npos) << e.what();
  }
  settings.num_layers.reset();
  EXPECT_THROW(BertScorer{settings}, Error);  // a local folder: num_layers is required
}

TEST(EncoderParity, HiddenStatesMatchTransformers) {
  const std::map<std::string, std::filesystem::path> models = {
      {"minilm", ""},
      {"tiny_roberta", kDir / "models/tiny_roberta"},
      {"tiny_bert_mlm", kDir / "models/tiny_bert_mlm"},
      {"tiny_xlmr", kDir / "models/tiny_xlmr"},
  };
  const auto all = cases();
  for (auto [name, dir] : models) {
    if (name == "minilm") dir = all["cases"][0]["model"].get<std::string>();
    Encoder encoder = load_encoder(dir);
    const auto ref = safetensors::TensorStore::open_file(kDir / "hidden" / (name + ".safetensors"));
    const at::Tensor ids = ref.get("input_ids");
    const at::Tensor mask = ref.get("attention_mask");
    const auto states = encoder->hidden_states(ids, mask);
    ASSERT_EQ(static_cast<int64_t>(states.size()), encoder->config().num_layers + 1) << name;
    double worst = 0, scale = 0;
    const at::Tensor real = mask.to(at::kBool);
    for (size_t i = 0; i < states.size(); ++i) {
      const at::Tensor expected = ref.get("hidden." + std::to_string(i));
      ASSERT_EQ(states[i].sizes(), expected.sizes()) << name << " layer " << i;
      worst = std::max(worst, (states[i] - expected).abs().index({real}).max().item<double>());
      scale = std::max(scale, expected.abs().max().item<double>());
      // Stopping early gives the same state.
      if (i == 1) EXPECT_TRUE(encoder->hidden_state(ids, mask, 1).equal(states[1])) << name;
    }
    EXPECT_LE(worst, 1e-4) << name;
    std::cout << name << ": max |hidden diff| " << worst << " (max |h| " << scale << ")\n";
  }
}

TEST(EncoderParity, TokenizationIsSentEncode) {
  const auto all = cases();
  for (const auto& t : all["tokenization"]) {
    BertScoreSettings settings;
    settings.model = t["model"];
    settings.num_layers = 0;
    const BertScorer scorer(settings);
    const auto sentences = t["sentences"].get<std::vector<std::string>>();
    const auto ids = scorer.encode(sentences);
    for (size_t i = 0; i < sentences.size(); ++i)
      EXPECT_EQ(ids[i], t["ids"][i].get<std::vector<int32_t>>()) << settings.model << ": '" << sentences[i] << "'";
  }
}

}  // namespace
}  // namespace finch
