// finch import-gguf: GGUF file -> HF model directory (dequantised) + tokenizer files.
#include "finch/cli/commands.h"
#include "finch/core/torch_util.h"
#include "finch/io/gguf_import.h"

namespace finch::cli {
namespace {

struct ImportGgufOptions {
  std::string file;
  std::string out;
  std::string dtype;
  bool tokenizer_only = false;
};

void run_import_gguf(const ImportGgufOptions& o) {
  gguf::ImportOptions options;
  options.gguf = o.file;
  options.out = o.out;
  if (!o.dtype.empty()) options.dtype = parse_float_dtype(o.dtype);
  options.tokenizer_only = o.tokenizer_only;
  gguf::import_gguf(options);
}

}  // namespace

void add_import_gguf_command(CLI::App& app) {
  auto options = std::make_shared<ImportGgufOptions>();
  auto* cmd = app.add_subcommand("import-gguf", "GGUF file -> Hugging Face model directory and tokenizer files");
  cmd->add_option("FILE", options->file, "the .gguf file (GGUF v2 or v3)")->required();
  cmd->add_option("--out", options->out, "output directory (created; files in it are replaced)")->required();
  cmd->add_option("--dtype", options->dtype,
                  "weight dtype: fp32, bf16 or fp16 (default: fp32 when any tensor is quantised, else the source's)");
  cmd->add_flag("--tokenizer-only", options->tokenizer_only,
                "write only tokenizer.json and tokenizer_config.json (implied when the file has no tensors)");
  cmd->footer(
      "Writes config.json, model.safetensors (or shards + index), tokenizer.json and tokenizer_config.json, as "
      "transformers builds them with from_pretrained(dir, gguf_file=...). Architectures: llama. Tensor types: F32, "
      "F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K. Tokenizers: gpt2 (byte-level BPE), llama "
      "(SentencePiece BPE). See docs/import-gguf.md.");
  cmd->callback([options] { run_import_gguf(*options); });
}

}  // namespace finch::cli
