#include "finch/eval/bertscore.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "finch/core/error.h"
#include "finch/eval/text_lines.h"
#include "finch/io/hub.h"
#include "finch/model/encoder.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::eval {
namespace {

// bert_score.utils.model2layers, the BERT- and RoBERTa-family entries (the
// families finch's encoder runs), with the correlation-tuned layer of each.
const std::map<std::string, int64_t>& known_layers() {
  static const std::map<std::string, int64_t> table = {
      {"bert-base-uncased", 9}, {"bert-large-uncased", 18}, {"bert-base-cased-finetuned-mrpc", 9},
      {"bert-base-multilingual-cased", 9}, {"bert-base-chinese", 8}, {"roberta-base", 10}, {"roberta-large", 17},
      {"roberta-large-mnli", 19}, {"roberta-base-openai-detector", 7}, {"roberta-large-openai-detector", 15},
      {"allenai/scibert_scivocab_uncased", 8}, {"allenai/scibert_scivocab_cased", 9},
      {"nfliu/scibert_basevocab_uncased", 9}, {"distilroberta-base", 5}, {"xlm-roberta-base", 9},
      {"xlm-roberta-large", 17}, {"google/bert_uncased_L-2_H-128_A-2", 1}, {"google/bert_uncased_L-2_H-256_A-4", 1},
      {"google/bert_uncased_L-2_H-512_A-8", 1}, {"google/bert_uncased_L-2_H-768_A-12", 2},
      {"google/bert_uncased_L-4_H-128_A-2", 3}, {"google/bert_uncased_L-4_H-256_A-4", 3},
      {"google/bert_uncased_L-4_H-512_A-8", 3}, {"google/bert_uncased_L-4_H-768_A-12", 3},
      {"google/bert_uncased_L-6_H-128_A-2", 5}, {"google/bert_uncased_L-6_H-256_A-4", 5},
      {"google/bert_uncased_L-6_H-512_A-8", 5}, {"google/bert_uncased_L-6_H-768_A-12", 5},
      {"google/bert_uncased_L-8_H-128_A-2", 7}, {"google/bert_uncased_L-8_H-256_A-4", 7},
      {"google/bert_uncased_L-8_H-512_A-8", 6}, {"google/bert_uncased_L-8_H-768_A-12", 7},
      {"google/bert_uncased_L-10_H-128_A-2", 8}, {"google/bert_uncased_L-10_H-256_A-4", 8},
      {"google/bert_uncased_L-10_H-512_A-8", 9}, {"google/bert_uncased_L-10_H-768_A-12", 8},
      {"google/bert_uncased_L-12_H-128_A-2", 10}, {"google/bert_uncased_L-12_H-256_A-4", 11},
      {"google/bert_uncased_L-12_H-512_A-8", 10}, {"google/bert_uncased_L-12_H-768_A-12", 9},
      {"SpanBERT/spanbert-base-cased", 8}, {"SpanBERT/spanbert-large-cased", 17}, {"ProsusAI/finbert", 10},
      {"princeton-nlp/unsup-simcse-bert-base-uncased", 10}, {"princeton-nlp/unsup-simcse-bert-large-uncased", 18},
      {"princeton-nlp/unsup-simcse-roberta-base", 8}, {"princeton-nlp/unsup-simcse-roberta-large", 13},
      {"princeton-nlp/sup-simcse-bert-base-uncased", 10}, {"princeton-nlp/sup-simcse-bert-large-uncased", 18},
      {"princeton-nlp/sup-simcse-roberta-base", 10}, {"princeton-nlp/sup-simcse-roberta-large", 16},
      {"dbmdz/bert-base-turkish-cased", 10},
  };
  return table;
}

// The Hub id a model argument names: the id itself, or the one a Hub-cache
// snapshot folder (.../models--org--name/snapshots/<commit>) was made from.
std::string hub_id_of(const std::string& model) {
  if (!std::filesystem::is_directory(model)) return model;
  for (const auto& part : std::filesystem::absolute(model)) {
    const std::string s = part.string();
    if (!s.starts_with("models--")) continue;
    std::string id = s.substr(8);
    if (const auto at = id.find("--"); at != std::string::npos) id.replace(at, 2, "/");
    return id;
  }
  return "";
}

// bert-score's baseline file: pandas.read_csv, then row `layer` by position,
// the columns after the first (P, R, F).
std::array<float, 3> read_baseline(const std::string& path, int64_t layer) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot read the baseline file", path);
  std::string line;
  std::getline(in, line);  // header
  int64_t row = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (row++ != layer) continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
      fields.push_back(line.substr(start, comma - start));
    fields.push_back(line.substr(start));
    if (fields.size() != 4) fail("{}: row {}: expected 4 comma-separated columns (LAYER,P,R,F)", path, layer + 1);
    std::array<float, 3> b{};
    for (size_t i = 0; i < 3; ++i) {
      char* end = nullptr;
      const double v = std::strtod(fields[i + 1].c_str(), &end);
      if (end == fields[i + 1].c_str() || *end != '\0')
        fail("{}: row {}: '{}' is not a number", path, layer + 1, fields[i + 1]);
      b[i] = static_cast<float>(v);
    }
    return b;
  }
  fail("{}: no row for layer {} (the file has {} layer rows)", path, layer, row);
}

int32_t special_id(const tokenizer::PretrainedTokenizer& tok, const std::string& key, const std::string& dir) {
  std::string content;
  if (const auto it = tok.config.special_tokens.find(key); it != tok.config.special_tokens.end()) {
    content = it->second;
  } else {
    // The defaults of transformers' BertTokenizer and RobertaTokenizer classes.
    const bool bert = tok.config.tokenizer_class.starts_with("Bert");
    const std::map<std::string, std::string> defaults =
        bert ? std::map<std::string, std::string>{{"cls_token", "[CLS]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"}}
             : std::map<std::string, std::string>{{"cls_token", "<s>"}, {"sep_token", "</s>"}, {"pad_token", "<pad>"}};
    content = defaults.at(key);
  }
  const auto id = tok.tokenizer.token_to_id(content);
  if (!id) fail("{}: {} '{}' is not in the tokenizer's vocabulary", dir, key, content);
  return *id;
}

}  // namespace

std::optional<int64_t> default_num_layers(const std::string& model_id) {
  std::string id = model_id;
  // The Hub moved the original checkpoints under organisations; bert-score's table has the old names.
  for (const char* org : {"FacebookAI/", "google-bert/", "distilbert/", "openai-community/"})
    if (id.starts_with(org)) id = id.substr(std::string(org).size());
  const auto it = known_layers().find(id);
  if (it == known_layers().end()) return std::nullopt;
  return it->second;
}

PairScore mean_score(const std::vector<PairScore>& scores) {
  PairScore m;
  if (scores.empty()) return m;
  // bert-score averages float32 tensors; float32 sums keep its digits.
  std::vector<float> p, r, f;
  for (const auto& s : scores) {
    p.push_back(static_cast<float>(s.precision));
    r.push_back(static_cast<float>(s.recall));
    f.push_back(static_cast<float>(s.f1));
  }
  m.precision = at::tensor(p).mean().item<double>();
  m.recall = at::tensor(r).mean().item<double>();
  m.f1 = at::tensor(f).mean().item<double>();
  return m;
}

struct BertScorer::State {
  BertScoreSettings settings;
  at::Device device = at::kCPU;
  std::string description;
  int64_t num_layers = 0;
  std::unique_ptr<tokenizer::PretrainedTokenizer> tokenizer;
  std::optional<int64_t> max_length;
  int32_t cls_id = 0, sep_id = 0, pad_id = 0;
  model::Encoder encoder{nullptr};
  std::optional<std::array<float, 3>> baseline;

  // bert_score.utils.sent_encode for each sentence.
  std::vector<std::vector<int32_t>> encode(const std::vector<std::string>& sentences) const;
  // Normalised hidden states of layer num_layers, one [T_i, C] per sentence.
  std::vector<at::Tensor> embed(const std::vector<std::vector<int32_t>>& ids);
};

BertScorer::BertScorer(const BertScoreSettings& settings, at::Device device) : state_(std::make_unique<State>()) {
  auto& s = *state_;
  s.settings = settings;
  s.device = device;
  if (settings.batch_size <= 0) fail("bertscore: batch_size must be a positive integer, got {}", settings.batch_size);
  const std::string id = hub_id_of(settings.model);
  if (settings.num_layers) {
    s.num_layers = *settings.num_layers;
  } else if (auto known = default_num_layers(id)) {
    s.num_layers = *known;
  } else {
    fail("bertscore: num_layers is required for '{}' (bert-score's tuned layers are known only for Hub ids such as "
         "roberta-large)",
         settings.model);
  }
  const std::filesystem::path dir = io::hub::model_dir(settings.model);
  const model::EncoderConfig config = model::read_encoder_config(JsonConfig::load(dir / "config.json"));
  if (s.num_layers < 0 || s.num_layers > config.num_layers)
    fail("bertscore: num_layers {} is out of range for {}: it has {} layers (0 is the embeddings' output)",
         s.num_layers, settings.model, config.num_layers);
  s.tokenizer = std::make_unique<tokenizer::PretrainedTokenizer>(tokenizer::PretrainedTokenizer::from_dir(dir));
  s.max_length = s.tokenizer->config.model_max_length;
  if (!s.max_length) {
    // Without model_max_length transformers does not truncate and bert-score
    // fails on a longer sentence; finch cuts to what the position table holds.
    s.max_length = config.max_position_embeddings -
                   (config.family == model::EncoderConfig::Family::kRoberta ? config.pad_token_id + 1 : 0);
  }
  s.cls_id = special_id(*s.tokenizer, "cls_token", dir.string());
  s.sep_id = special_id(*s.tokenizer, "sep_token", dir.string());
  s.pad_id = special_id(*s.tokenizer, "pad_token", dir.string());
  model::EncoderLoadOptions load;
  load.device = device;
  load.num_layers = s.num_layers;
  s.encoder = model::load_encoder(dir, load);
  if (!settings.baseline.empty()) s.baseline = read_baseline(settings.baseline, s.num_layers);
  const std::string name = id.empty() ? dir.filename().string() : id;
  s.description = fmt::format("{}_L{}_{}_version=0.3.13(finch){}", name, s.num_layers, settings.idf ? "idf" : "no-idf",
                              s.baseline ? "-custom-rescaled" : "");
}

BertScorer::BertScorer(BertScorer&&) noexcept = default;
BertScorer::~BertScorer() = default;

int64_t BertScorer::num_layers() const { return state_->num_layers; }
std::string BertScorer::describe() const { return state_->description; }
std::vector<std::vector<int32_t>> BertScorer::encode(const std::vector<std::string>& sentences) const {
  return state_->encode(sentences);
}

std::vector<std::vector<int32_t>> BertScorer::State::encode(const std::vector<std::string>& sentences) const {
  std::vector<std::string> stripped;
  stripped.reserve(sentences.size());
  for (const auto& s : sentences) stripped.push_back(python_strip(s));
  auto ids = tokenizer->tokenizer.encode_batch(stripped, /*add_special_tokens=*/true);
  for (size_t i = 0; i < ids.size(); ++i) {
    // sent_encode: an empty sentence is build_inputs_with_special_tokens([]).
    if (stripped[i].empty()) {
      ids[i] = {cls_id, sep_id};
      continue;
    }
    if (!max_length || static_cast<int64_t>(ids[i].size()) <= *max_length) continue;
    // truncation=True, max_length=model_max_length: the text's tokens are cut
    // on the right so that they and the special tokens fit.
    const auto content = tokenizer->tokenizer.encode(stripped[i], /*add_special_tokens=*/false);
    const size_t specials = ids[i].size() - content.size();
    const auto at = std::search(ids[i].begin(), ids[i].end(), content.begin(), content.end());
    FINCH_CHECK(at != ids[i].end(), "special tokens are not around the text's tokens");
    const size_t prefix = static_cast<size_t>(at - ids[i].begin());
    const size_t keep = static_cast<size_t>(std::max<int64_t>(*max_length - static_cast<int64_t>(specials), 0));
    std::vector<int32_t> out(ids[i].begin(), ids[i].begin() + static_cast<std::ptrdiff_t>(prefix));
    out.insert(out.end(), content.begin(), content.begin() + static_cast<std::ptrdiff_t>(std::min(keep, content.size())));
    out.insert(out.end(), ids[i].begin() + static_cast<std::ptrdiff_t>(prefix + content.size()), ids[i].end());
    ids[i] = std::move(out);
  }
  return ids;
}

std::vector<at::Tensor> BertScorer::State::embed(const std::vector<std::vector<int32_t>>& ids) {
  // Longest first, and a new batch where a sentence is under half the
  // batch's longest, so that batches pad little. Padding only costs time: a
  // sentence's hidden states do not depend on it (padded keys are masked).
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() > ids[b].size(); });
  std::vector<at::Tensor> out(ids.size());
  const auto B = static_cast<size_t>(settings.batch_size);
  for (size_t start = 0, n = 0; start < order.size(); start += n) {
    n = 1;
    while (start + n < order.size() && n < B && 2 * ids[order[start + n]].size() >= ids[order[start]].size()) ++n;
    const int64_t T = static_cast<int64_t>(ids[order[start]].size());
    at::Tensor input = at::full({static_cast<int64_t>(n), T}, pad_id, at::kLong);
    at::Tensor mask = at::zeros({static_cast<int64_t>(n), T}, at::kLong);
    for (size_t r = 0; r < n; ++r) {
      const auto& row = ids[order[start + r]];
      const auto len = static_cast<int64_t>(row.size());
      input[static_cast<int64_t>(r)].slice(0, 0, len).copy_(at::tensor(row, at::kInt));
      mask[static_cast<int64_t>(r)].slice(0, 0, len).fill_(1);
    }
    const at::Tensor hidden = encoder->hidden_state(input.to(device), mask.to(device), num_layers).to(at::kFloat);
    for (size_t r = 0; r < n; ++r) {
      const at::Tensor h = hidden[static_cast<int64_t>(r)].slice(0, 0, static_cast<int64_t>(ids[order[start + r]].size()));
      out[order[start + r]] = h / at::linalg_vector_norm(h, 2, {-1}, true);
    }
  }
  return out;
}

std::vector<PairScore> BertScorer::score(const std::vector<std::string>& cands, const std::vector<std::string>& refs) {
  auto& s = *state_;
  if (cands.size() != refs.size())
    fail("bertscore: {} candidates but {} references (they are scored in pairs)", cands.size(), refs.size());
  if (cands.empty()) return {};
  torch::NoGradGuard no_grad;

  // Each distinct sentence is encoded once.
  std::vector<std::string> unique;
  std::unordered_map<std::string, size_t> index;
  for (const auto* list : {&refs, &cands})
    for (const auto& sentence : *list)
      if (index.emplace(sentence, unique.size()).second) unique.push_back(sentence);
  const auto ids = s.encode(unique);

  // Token weights: idf over the references (get_idf_dict: document frequency
  // of each id in a reference's set of ids, specials included, so [CLS] and
  // [SEP] get log(1) = 0); without idf 1, and 0 for [CLS] and [SEP].
  const double M = static_cast<double>(refs.size());
  std::unordered_map<int32_t, int64_t> df;
  if (s.settings.idf) {
    for (const auto& r : refs) {
      const auto& rid = ids[index.at(r)];
      for (const int32_t id : std::unordered_set<int32_t>(rid.begin(), rid.end())) ++df[id];
    }
  }
  auto weight = [&](int32_t id) -> float {
    if (!s.settings.idf) return id == s.cls_id || id == s.sep_id ? 0.0f : 1.0f;
    const auto it = df.find(id);
    const double count = it == df.end() ? 0.0 : static_cast<double>(it->second);
    return static_cast<float>(std::log((M + 1.0) / (count + 1.0)));
  };
  const auto embeddings = s.embed(ids);

  std::vector<PairScore> scores;
  scores.reserve(cands.size());
  const auto B = static_cast<size_t>(s.settings.batch_size);
  for (size_t start = 0; start < cands.size(); start += B) {
    const size_t n = std::min(B, cands.size() - start);
    // The batch padded as bert-score pads it: padded tokens have similarity 0,
    // which also takes part in the max of a shorter sentence's tokens.
    auto pad = [&](const std::vector<std::string>& side, at::Tensor& emb, at::Tensor& mask, at::Tensor& idf,
                   at::Tensor& lens) {
      int64_t T = 0;
      for (size_t i = 0; i < n; ++i) T = std::max<int64_t>(T, static_cast<int64_t>(ids[index.at(side[start + i])].size()));
      const int64_t C = embeddings[0].size(1);
      emb = at::zeros({static_cast<int64_t>(n), T, C}, at::TensorOptions().dtype(at::kFloat).device(s.device));
      std::vector<float> m(n * static_cast<size_t>(T), 0.0f), w(n * static_cast<size_t>(T), 0.0f);
      std::vector<int64_t> lengths;
      for (size_t i = 0; i < n; ++i) {
        const size_t u = index.at(side[start + i]);
        const auto len = static_cast<int64_t>(ids[u].size());
        emb[static_cast<int64_t>(i)].slice(0, 0, len).copy_(embeddings[u]);
        for (size_t t = 0; t < ids[u].size(); ++t) {
          m[i * static_cast<size_t>(T) + t] = 1.0f;
          w[i * static_cast<size_t>(T) + t] = weight(ids[u][t]);
        }
        lengths.push_back(len);
      }
      mask = at::tensor(m).view({static_cast<int64_t>(n), T}).to(s.device);
      idf = at::tensor(w).view({static_cast<int64_t>(n), T}).to(s.device);
      lens = at::tensor(lengths, at::kLong).to(s.device);
    };
    at::Tensor hyp, hyp_mask, hyp_idf, hyp_len, ref, ref_mask, ref_idf, ref_len;
    pad(cands, hyp, hyp_mask, hyp_idf, hyp_len);
    pad(refs, ref, ref_mask, ref_idf, ref_len);
    const at::Tensor sim = at::bmm(hyp, ref.transpose(1, 2)) * at::bmm(hyp_mask.unsqueeze(2), ref_mask.unsqueeze(1));
    const at::Tensor word_precision = std::get<0>(sim.max(2));  // [b, Th]
    const at::Tensor word_recall = std::get<0>(sim.max(1));     // [b, Tr]
    hyp_idf = hyp_idf / hyp_idf.sum(1, true);
    ref_idf = ref_idf / ref_idf.sum(1, true);
    at::Tensor P = (word_precision * hyp_idf).sum(1);
    at::Tensor R = (word_recall * ref_idf).sum(1);
    at::Tensor F = 2 * P * R / (P + R);
    // An empty sentence ([CLS] [SEP] only) scores 0; 0/0 F1 is 0.
    const at::Tensor empty = hyp_len.eq(2).logical_or(ref_len.eq(2));
    P = P.masked_fill(empty, 0.0);
    R = R.masked_fill(empty, 0.0);
    F = F.masked_fill(at::isnan(F), 0.0);
    at::Tensor all = at::stack({P, R, F}, -1).cpu();  // [b, 3]
    if (s.baseline) {
      const at::Tensor b = at::tensor(std::vector<float>(s.baseline->begin(), s.baseline->end()));
      all = (all - b) / (1 - b);
    }
    const auto acc = all.accessor<float, 2>();
    for (size_t i = 0; i < n; ++i)
      scores.push_back({acc[static_cast<int64_t>(i)][0], acc[static_cast<int64_t>(i)][1], acc[static_cast<int64_t>(i)][2]});
  }
  return scores;
}

}  // namespace finch::eval
