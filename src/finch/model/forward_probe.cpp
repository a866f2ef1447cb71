#include "finch/model/forward_probe.h"

#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/grad_mode.h>

#include <chrono>
#include <fstream>

#include "finch/core/error.h"

namespace finch::model {
namespace {

std::vector<int64_t> int_list(const nlohmann::json& line, const char* key, const std::string& where) {
  const auto it = line.find(key);
  if (it == line.end() || !it->is_array()) fail("{}: '{}' must be a list of integers", where, key);
  std::vector<int64_t> out;
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_number_integer()) fail("{}: '{}' must be a list of integers, found {}", where, key, v.dump());
    out.push_back(v.get<int64_t>());
  }
  return out;
}

}  // namespace

std::vector<ProbeRow> read_probe_rows(const std::filesystem::path& path, int64_t vocab_size) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot open", path.string());
  std::vector<ProbeRow> rows;
  std::string text;
  for (int64_t line_no = 1; std::getline(in, text); ++line_no) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = fmt::format("{}:{}", path.string(), line_no);
    nlohmann::json line;
    try {
      line = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      fail("{}: not a JSON object", where);
    }
    if (!line.is_object()) fail("{}: not a JSON object", where);
    ProbeRow row;
    row.input_ids = int_list(line, "input_ids", where);
    if (row.input_ids.empty()) fail("{}: 'input_ids' is empty", where);
    for (int64_t id : row.input_ids)
      if (id < 0 || id >= vocab_size) fail("{}: token id {} is outside the vocabulary [0, {})", where, id, vocab_size);
    if (line.contains("attention_mask")) {
      row.attention_mask = int_list(line, "attention_mask", where);
      if (row.attention_mask.size() != row.input_ids.size())
        fail("{}: 'attention_mask' has {} entries for {} input_ids", where, row.attention_mask.size(),
             row.input_ids.size());
      for (int64_t m : row.attention_mask)
        if (m != 0 && m != 1) fail("{}: 'attention_mask' holds {}, expected 0 or 1", where, m);
    } else {
      row.attention_mask.assign(row.input_ids.size(), 1);
    }
    if (line.contains("position_ids")) {
      row.position_ids = int_list(line, "position_ids", where);
      if (row.position_ids.size() != row.input_ids.size())
        fail("{}: 'position_ids' has {} entries for {} input_ids", where, row.position_ids.size(),
             row.input_ids.size());
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) fail("{}: no rows", path.string());
  return rows;
}

ProbeResult run_probe(CausalLM& model, const std::vector<ProbeRow>& rows, int64_t batch_size, at::Device device,
                      bool keep_logits) {
  FINCH_CHECK(batch_size > 0, "batch size {}", batch_size);
  c10::InferenceMode inference;
  ProbeResult result;
  const auto start = std::chrono::steady_clock::now();
  for (size_t first = 0; first < rows.size(); first += static_cast<size_t>(batch_size)) {
    const size_t last = std::min(rows.size(), first + static_cast<size_t>(batch_size));
    const int64_t B = static_cast<int64_t>(last - first);
    int64_t T = 0;
    for (size_t r = first; r < last; ++r) T = std::max<int64_t>(T, static_cast<int64_t>(rows[r].input_ids.size()));
    at::Tensor ids = at::zeros({B, T}, at::kLong), mask = at::zeros({B, T}, at::kLong);
    at::Tensor positions = at::arange(T, at::kLong).unsqueeze(0).repeat({B, 1});
    for (int64_t b = 0; b < B; ++b) {
      const ProbeRow& row = rows[first + static_cast<size_t>(b)];
      const auto n = static_cast<int64_t>(row.input_ids.size());
      ids[b].slice(0, 0, n).copy_(at::tensor(row.input_ids, at::kLong));
      mask[b].slice(0, 0, n).copy_(at::tensor(row.attention_mask, at::kLong));
      if (!row.position_ids.empty()) positions[b].slice(0, 0, n).copy_(at::tensor(row.position_ids, at::kLong));
      result.input_tokens += n;
    }
    const at::Tensor ids_on = ids.to(device), mask_on = mask.to(device);
    const at::Tensor logits = model->forward(ids_on, mask_on, positions.to(device));  // [B, T, V]
    // Next-token loss over pairs (t, t+1) whose input and target are both real
    // tokens, in float64 so the reduction adds no error of its own; on the
    // model's device, in chunks of positions so the float64 copy stays small
    // whatever the vocabulary, read back once per batch.
    constexpr int64_t kChunk = 256;
    at::Tensor nll_sum = at::zeros({}, at::TensorOptions(at::kDouble).device(device));
    at::Tensor counted_sum = at::zeros({}, at::TensorOptions(at::kLong).device(device));
    for (int64_t b = 0; b < B; ++b) {
      const auto n = static_cast<int64_t>(rows[first + static_cast<size_t>(b)].input_ids.size());
      const at::Tensor row_logits = logits[b].slice(0, 0, n);  // [T_i, V]
      for (int64_t t0 = 0; t0 < n - 1; t0 += kChunk) {
        const int64_t t1 = std::min(n - 1, t0 + kChunk);
        const at::Tensor chunk = row_logits.slice(0, t0, t1).to(at::kDouble);  // predicts t0+1 .. t1
        const at::Tensor targets = ids_on[b].slice(0, t0 + 1, t1 + 1).unsqueeze(-1);
        const at::Tensor nll = at::logsumexp(chunk, -1) - chunk.gather(-1, targets).squeeze(-1);
        const at::Tensor counted = mask_on[b].slice(0, t0, t1).logical_and(mask_on[b].slice(0, t0 + 1, t1 + 1));
        nll_sum += (nll * counted).sum();
        counted_sum += counted.sum();
      }
      if (keep_logits) result.logits.push_back(row_logits.to(at::kCPU, at::kFloat).clone());
    }
    result.nll_sum += nll_sum.item<double>();
    result.tokens += counted_sum.item<int64_t>();
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace finch::model
