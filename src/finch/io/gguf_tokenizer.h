// The tokenizer a GGUF file describes (its `tokenizer.ggml.*` metadata), as the
// `tokenizer.json` and `tokenizer_config.json` that transformers builds from
// the same file with `AutoTokenizer.from_pretrained(dir, gguf_file=...)`.
//
//   tokenizer.ggml.model "gpt2":  byte-level BPE. Tokens outside the byte
//     alphabet are respelled byte by byte; merges from the file (or derived
//     from the vocabulary); the GPT-2 pre-tokenizer, or the split regex of a
//     known `tokenizer.ggml.pre`; ByteLevel decoder.
//   tokenizer.ggml.model "llama": SentencePiece as BPE with byte fallback;
//     merges from the file, or derived from the vocabulary and the scores;
//     Metaspace pre-tokenizer (prepend on the first piece only); the
//     Replace/ByteFallback/Fuse/Strip decoder.
// In both, CONTROL tokens (and the bos/eos/unk/pad tokens) are special added
// tokens, USER_DEFINED ones plain added tokens, and a TemplateProcessing post
// processor adds BOS/EOS as `add_bos_token` / `add_eos_token` say.
#pragma once

#include <nlohmann/json.hpp>

#include "finch/io/gguf.h"

namespace finch::gguf {

struct TokenizerFiles {
  nlohmann::ordered_json tokenizer;         // tokenizer.json
  nlohmann::ordered_json tokenizer_config;  // tokenizer_config.json
};

bool has_tokenizer(const File& file);  // tokenizer.ggml.model is present
TokenizerFiles build_tokenizer(const File& file);

}  // namespace finch::gguf
