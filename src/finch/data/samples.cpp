// The recipe (see samples.h) and the truncated, labelled samples of a split.
#include "finch/data/samples.h"

#include <algorithm>

#include "finch/core/error.h"
#include "finch/core/log.h"

namespace finch::data {

RecipeTokens RecipeTokens::of(const tokenizer::PretrainedTokenizer& tokenizer) {
  RecipeTokens t;
  const auto& specials = tokenizer.config.special_tokens;
  if (auto bos = specials.find("bos_token"); bos != specials.end()) t.bos_text = bos->second;
  auto eos = specials.find("eos_token");
  if (eos == specials.end() || eos->second.empty())
    fail("tokenizer_config.json: no eos_token; training samples end with EOS (the recipe needs one)");
  auto id = tokenizer.tokenizer.token_to_id(eos->second);
  if (!id) fail("tokenizer_config.json: eos_token '{}' is not in the tokenizer's vocabulary", eos->second);
  t.eos_id = *id;
  t.eos_text = eos->second;
  return t;
}

TokenizedRow tokenize_row(const tokenizer::PretrainedTokenizer& tokenizer, const RecipeTokens& tokens,
                          const std::string& input, const std::string& output) {
  TokenizedRow row;
  row.ids = tokenizer.tokenizer.encode(input, /*add_special_tokens=*/!tokens.input_is_rendered(input));
  row.input_length = static_cast<int64_t>(row.ids.size());
  const std::vector<int32_t> out = tokenizer.tokenizer.encode(output, /*add_special_tokens=*/false);
  row.ids.insert(row.ids.end(), out.begin(), out.end());
  if (tokens.output_needs_eos(output)) row.ids.push_back(tokens.eos_id);
  return row;
}

bool make_sample(std::span<const int32_t> ids, int64_t input_length, const SampleOptions& options, Sample& out) {
  int64_t n = static_cast<int64_t>(ids.size());
  if (options.max_seq_length > 0) n = std::min(n, options.max_seq_length);
  const int64_t labelled_from = options.train_on_inputs ? 0 : std::min(input_length, n);
  // A target is a label at position >= 1 (the shifted loss never reads position 0).
  if (n - std::max<int64_t>(labelled_from, 1) <= 0) return false;
  out.input_ids.assign(ids.begin(), ids.begin() + n);
  out.labels.assign(static_cast<std::size_t>(n), kIgnoreIndex);
  std::copy(out.input_ids.begin() + labelled_from, out.input_ids.end(), out.labels.begin() + labelled_from);
  return true;
}

SampleSet::SampleSet(std::shared_ptr<const TokenizedSplit> split, const SampleOptions& options)
    : split_(std::move(split)), options_(options) {
  rows_.reserve(split_->size());
  for (std::size_t r = 0; r < split_->size(); ++r) {
    const int64_t n = length_of(r);
    const int64_t labelled_from = options_.train_on_inputs ? 0 : std::min(split_->input_length(r), n);
    if (n - std::max<int64_t>(labelled_from, 1) > 0)
      rows_.push_back(r);
    else
      ++dropped_;
  }
}

SampleSet::SampleSet(std::vector<Sample> samples) : given_(std::move(samples)) {
  for (std::size_t i = 0; i < given_.size(); ++i) {
    FINCH_CHECK(given_[i].input_ids.size() == given_[i].labels.size(), "sample {}: {} input_ids but {} labels", i,
                given_[i].input_ids.size(), given_[i].labels.size());
    rows_.push_back(i);
  }
}

int64_t SampleSet::length_of(std::size_t row) const {
  if (!split_) return static_cast<int64_t>(given_[row].input_ids.size());
  const auto n = static_cast<int64_t>(split_->ids(row).size());
  return options_.max_seq_length > 0 ? std::min(n, options_.max_seq_length) : n;
}

int64_t SampleSet::length(std::size_t i) const { return length_of(rows_[i]); }

Sample SampleSet::get(std::size_t i) const {
  if (!split_) return given_[rows_[i]];
  Sample s;
  const std::size_t r = rows_[i];
  const bool kept = make_sample(split_->ids(r), split_->input_length(r), options_, s);
  FINCH_CHECK(kept, "sample {} (row {}) has no target", i, r);
  return s;
}

void check_dropped(const SampleSet& set, const std::string& where, int64_t max_seq_length, double max_fraction) {
  if (set.dropped() == 0) return;
  const int64_t total = set.dropped() + static_cast<int64_t>(set.size());
  const double fraction = static_cast<double>(set.dropped()) / static_cast<double>(total);
  if (fraction > max_fraction)
    fail("{}: {} of {} samples ({:.1f}%) have no target left after truncation to max_seq_length {}; at most {:.1f}% "
         "may be dropped (raise max_seq_length or shorten the inputs)",
         where, set.dropped(), total, 100 * fraction, max_seq_length, 100 * max_fraction);
  log_warning("{}: {} of {} samples dropped: no target left after truncation to max_seq_length {}", where,
              set.dropped(), total, max_seq_length);
}

}  // namespace finch::data
