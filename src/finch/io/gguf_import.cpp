#include "finch/io/gguf_import.h"

#include <nlohmann/json.hpp>

#include <regex>
#include <set>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/core/torch_util.h"
#include "finch/io/gguf.h"
#include "finch/io/gguf_dequant.h"
#include "finch/io/gguf_tokenizer.h"
#include "finch/io/safetensors.h"

namespace finch::gguf {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxShardBytes = 5ull * 1000 * 1000 * 1000;  // HF's default "5GB"

// llama.cpp's tensor names -> HF Llama names. `{}` is the layer index.
struct NameRow {
  std::string_view gguf;
  std::string_view hf;
};
constexpr NameRow kGlobalNames[] = {
    {"token_embd.weight", "model.embed_tokens.weight"},
    {"output_norm.weight", "model.norm.weight"},
    {"output.weight", "lm_head.weight"},
};
constexpr NameRow kLayerNames[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"ffn_norm.weight", "post_attention_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
};
// Tensors transformers does not load into a Llama model: skipped with a warning.
constexpr std::string_view kIgnoredNames[] = {"rope_freqs.weight"};

struct LlamaShape {
  int64_t layers = 0, heads = 0, kv_heads = 0;
};

// HF name for a GGUF tensor name, or nullopt for one transformers ignores.
std::optional<std::string> hf_name(const File& file, const std::string& name, int64_t layers) {
  for (const auto& row : kGlobalNames)
    if (name == row.gguf) return std::string(row.hf);
  for (const auto& ignored : kIgnoredNames)
    if (name == ignored) return std::nullopt;
  static const std::regex layer_name(R"(blk\.(\d+)\.(.+))");
  std::smatch m;
  if (std::regex_match(name, m, layer_name)) {
    const int64_t layer = std::stoll(m[1].str());
    if (layer >= layers)
      fail("{}: tensor '{}' belongs to layer {} but the model has {} layers", file.path().string(), name, layer,
           layers);
    for (const auto& row : kLayerNames)
      if (m[2].str() == row.gguf) return fmt::format("model.layers.{}.{}", layer, row.hf);
  }
  fail("{}: tensor '{}' has no Hugging Face Llama name (known: token_embd, output_norm, output, blk.N.{{attn_norm, "
       "ffn_norm, attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down}}.weight)",
       file.path().string(), name);
}

// llama.cpp stores the rows of q and k with each head's two rotary halves
// interleaved ([h][d/2][2] <- HF's [h][2][d/2]); this undoes it exactly as
// transformers' reverse permutation does: reshape (heads, d/2, 2, cols),
// swap the middle axes, reshape back.
at::Tensor unpermute_rows(const at::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0);
  FINCH_CHECK(rows % (2 * heads) == 0, "{} rows do not split into {} heads of rotary pairs", rows, heads);
  std::vector<int64_t> shape = {heads, rows / heads / 2, 2};
  for (int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes()).contiguous();
}

json llama_config(const File& file, bool tied, at::ScalarType dtype, int64_t vocab_from_tokens) {
  const std::string a = "llama.";
  json c;
  c["architectures"] = {"LlamaForCausalLM"};
  c["model_type"] = "llama";
  c["hidden_size"] = file.get_int(a + "embedding_length");
  c["intermediate_size"] = file.get_int(a + "feed_forward_length");
  c["num_hidden_layers"] = file.get_int(a + "block_count");
  const int64_t heads = file.get_int(a + "attention.head_count");
  c["num_attention_heads"] = heads;
  c["num_key_value_heads"] = file.get_int_or(a + "attention.head_count_kv").value_or(heads);
  if (const auto head_dim = file.get_int_or(a + "rope.dimension_count")) c["head_dim"] = *head_dim;
  // Stored as float32; written as the double of that float, as transformers does.
  c["rms_norm_eps"] = file.has(a + "attention.layer_norm_rms_epsilon")
                          ? file.get_float(a + "attention.layer_norm_rms_epsilon") : 1e-6;
  c["rope_parameters"] = {
      {"rope_theta", file.has(a + "rope.freq_base") ? file.get_float(a + "rope.freq_base") : 10000.0},
      {"rope_type", "default"}};
  c["max_position_embeddings"] = file.get_int_or(a + "context_length").value_or(2048);
  if (const auto vocab = file.get_int_or(a + "vocab_size")) c["vocab_size"] = *vocab;
  else if (vocab_from_tokens > 0) c["vocab_size"] = vocab_from_tokens;
  else fail("{}: neither llama.vocab_size nor tokenizer.ggml.tokens gives the vocabulary size", file.path().string());
  c["tie_word_embeddings"] = tied;
  for (const auto& [name, key] : {std::pair{"bos_token_id", "bos_token_id"}, std::pair{"eos_token_id", "eos_token_id"},
                                  std::pair{"unk_token_id", "unknown_token_id"},
                                  std::pair{"pad_token_id", "padding_token_id"}})
    if (const auto id = file.get_int_or(std::string("tokenizer.ggml.") + key)) c[name] = *id;
  c["hidden_act"] = "silu";
  c["attention_bias"] = false;
  c["attention_dropout"] = 0.0;
  c["mlp_bias"] = false;
  c["initializer_range"] = 0.02;
  c["pretraining_tp"] = 1;
  c["use_cache"] = true;
  c["torch_dtype"] = dtype == at::kFloat ? "float32" : dtype == at::kHalf ? "float16" : "bfloat16";
  return c;
}

at::ScalarType default_dtype(const File& file) {
  bool any_f16 = false, any_bf16 = false;
  for (const auto& t : file.tensors()) {
    if (t.type == ggml::F16) any_f16 = true;
    else if (t.type == ggml::BF16) any_bf16 = true;
    else if (t.type != ggml::F32) return at::kFloat;  // quantised: dequantised values are fp32
  }
  return any_f16 ? at::kHalf : any_bf16 ? at::kBFloat16 : at::kFloat;
}

void write_json(const fs::path& path, const json& value) {
  write_file_atomic(path, value.dump(2, ' ', false, json::error_handler_t::strict) + "\n");
}

void write_tokenizer(const File& file, const fs::path& out) {
  const TokenizerFiles files = build_tokenizer(file);
  write_json(out / "tokenizer.json", files.tokenizer);
  write_json(out / "tokenizer_config.json", files.tokenizer_config);
}

}  // namespace

ImportSummary import_gguf(const ImportOptions& options) {
  const File file(options.gguf);
  const std::string where = options.gguf.string();
  ImportSummary summary;
  const bool tokenizer_only = options.tokenizer_only || file.tensors().empty();
  if (tokenizer_only) {
    if (!has_tokenizer(file)) fail("{}: no tensors and no tokenizer.ggml.model: nothing to import", where);
    if (options.dtype) log_warning("import-gguf: --dtype is ignored: only the tokenizer is imported");
    fs::create_directories(options.out);
    write_tokenizer(file, options.out);
    summary.wrote_tokenizer = true;
    log_info("import-gguf: {} -> {} (tokenizer only)", where, options.out.string());
    return summary;
  }

  const std::string architecture = file.get_string("general.architecture");
  if (architecture != "llama") fail("{}: architecture '{}' is not supported (supported: llama)", where, architecture);
  const at::ScalarType dtype = options.dtype.value_or(default_dtype(file));
  const int64_t layers = file.get_int("llama.block_count");
  const int64_t heads = file.get_int("llama.attention.head_count");
  const int64_t kv_heads = file.get_int_or("llama.attention.head_count_kv").value_or(heads);
  const bool tied = file.find_tensor("output.weight") == nullptr;
  const int64_t n_tokens =
      file.has("tokenizer.ggml.tokens") ? static_cast<int64_t>(file.get_strings("tokenizer.ggml.tokens").size()) : 0;

  // Every tensor a Llama needs must be present.
  std::set<std::string> expected = {"model.embed_tokens.weight", "model.norm.weight"};
  if (!tied) expected.insert("lm_head.weight");
  for (int64_t l = 0; l < layers; ++l)
    for (const auto& row : kLayerNames) expected.insert(fmt::format("model.layers.{}.{}", l, row.hf));

  safetensors::NamedTensors tensors;
  for (const auto& info : file.tensors()) {
    const auto name = hf_name(file, info.name, layers);
    if (!name) {
      log_warning("import-gguf: tensor '{}' is not part of a Hugging Face Llama model; skipped", info.name);
      continue;
    }
    at::Tensor w = dequantize(file, info);
    if (info.name.ends_with(".attn_q.weight")) w = unpermute_rows(w, heads);
    else if (info.name.ends_with(".attn_k.weight")) w = unpermute_rows(w, kv_heads);
    tensors.emplace_back(*name, w.to(dtype).contiguous());
    expected.erase(*name);
  }
  if (!expected.empty()) fail("{}: tensor for '{}' is missing", where, *expected.begin());

  fs::create_directories(options.out);
  safetensors::save_model_dir(options.out, tensors, kMaxShardBytes);
  write_json(options.out / "config.json", llama_config(file, tied, dtype, n_tokens));
  summary.wrote_model = true;
  summary.tensors = static_cast<int64_t>(tensors.size());
  if (has_tokenizer(file)) {
    write_tokenizer(file, options.out);
    summary.wrote_tokenizer = true;
  } else {
    log_warning("import-gguf: {} has no tokenizer.ggml.model; no tokenizer files written", where);
  }
  log_info("import-gguf: {} -> {} ({} tensors, {})", where, options.out.string(), tensors.size(),
           float_dtype_name(dtype));
  return summary;
}

}  // namespace finch::gguf
