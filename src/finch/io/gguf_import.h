// GGUF file -> Hugging Face model directory, the one transformers builds with
// `from_pretrained(dir, gguf_file=...)`: config.json, dequantised weights as
// safetensors under HF names (llama.cpp's q/k row permutation undone),
// tokenizer.json and tokenizer_config.json.
#pragma once

#include <ATen/ATen.h>

#include <filesystem>
#include <optional>

namespace finch::gguf {

struct ImportOptions {
  std::filesystem::path gguf;
  std::filesystem::path out;
  // Weight dtype; unset: fp32 when any tensor is quantised, else the source's
  // (fp16 for F16 files, bf16 for BF16 files, fp32 otherwise).
  std::optional<at::ScalarType> dtype;
  bool tokenizer_only = false;  // also implied by a file with no tensors
};

struct ImportSummary {
  bool wrote_model = false;
  bool wrote_tokenizer = false;
  int64_t tensors = 0;
};

ImportSummary import_gguf(const ImportOptions& options);

}  // namespace finch::gguf
