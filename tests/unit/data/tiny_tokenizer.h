// A hand-made tokenizer directory for the data tests: ids follow by hand.
//   vocab a=0 b=1 c=2 ab=3 abc=4 <unk>=5, added <s>=6 (bos, prepended) and </s>=7 (eos)
#pragma once

#include <string>
#include <vector>

#include "../test_util.h"
#include "finch/core/files.h"

namespace finch::test {

inline void write_tiny_tokenizer(const std::filesystem::path& dir, const std::string& extra_config = "") {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "tokenizer.json", R"({
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "<unk>": 5},
              "merges": ["a b", "ab c"], "unk_token": "<unk>"},
    "pre_tokenizer": {"type": "WhitespaceSplit"},
    "added_tokens": [{"id": 6, "content": "<s>", "special": true, "normalized": false},
                     {"id": 7, "content": "</s>", "special": true, "normalized": false}],
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [6], "tokens": ["<s>"]}}}
  })");
  write_file_atomic(dir / "tokenizer_config.json",
                    R"({"bos_token": "<s>", "eos_token": "</s>")" + extra_config + "}");
}

// JSONL of {"input", "output"} rows.
inline void write_rows(const std::filesystem::path& file, const std::vector<std::pair<std::string, std::string>>& rows) {
  std::string text;
  for (const auto& [in, out] : rows) text += nlohmann::json{{"input", in}, {"output", out}}.dump() + "\n";
  write_file_atomic(file, text);
}

}  // namespace finch::test
