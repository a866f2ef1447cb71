// Tokenizer parity with HF: for every tokenizer the generator
// (gen/make_tokenizer_cases.py) wrote, finch must give exactly the ids of
// `tokenizers` with and without special tokens, the same decoded text with
// and without special tokens, and the ids of transformers' AutoTokenizer
// (tokenizer_config.json applied). Tolerance: none, ids are compared exactly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "finch/core/files.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::tokenizer {
namespace {

const std::filesystem::path kDir = std::filesystem::path(FINCH_PARITY_DIR) / "tokenizers";

std::vector<nlohmann::json> index_entries() {
  const auto path = kDir / "index.json";
  if (!std::filesystem::exists(path)) return {};
  const auto j = nlohmann::json::parse(read_text_file(path));
  return {j.begin(), j.end()};
}

class TokenizerParity : public ::testing::TestWithParam<nlohmann::json> {};

std::string show(const std::vector<int32_t>& ids) { return nlohmann::json(ids).dump(); }

TEST_P(TokenizerParity, IdsAndDecodingEqualHuggingFace) {
  const auto& entry = GetParam();
  const std::filesystem::path dir = entry["dir"].get<std::string>();
  if (entry.contains("error")) {
    try {
      Tokenizer::from_file(dir / "tokenizer.json");
      FAIL() << "expected an error naming " << entry["error"];
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(entry["error"].get<std::string>()), std::string::npos) << e.what();
    }
    return;
  }
  const Tokenizer plain = Tokenizer::from_file(dir / "tokenizer.json");
  const auto pretrained = PretrainedTokenizer::from_dir(dir);
  std::ifstream in(dir / "cases.jsonl");
  std::string line;
  int rows = 0, failures = 0;
  while (std::getline(in, line)) {
    const auto row = nlohmann::json::parse(line);
    const auto text = row["text"].get<std::string>();
    ++rows;
    auto check = [&](bool ok, const std::string& what) {
      if (ok) return;
      if (++failures <= 8) ADD_FAILURE() << entry["name"] << " row " << rows << " " << what << "\n text: " << nlohmann::json(text).dump();
    };
    const auto ids = plain.encode(text, true);
    check(ids == row["ids"].get<std::vector<int32_t>>(), "ids: finch " + show(ids) + " HF " + row["ids"].dump());
    const auto ids_plain = plain.encode(text, false);
    check(ids_plain == row["ids_plain"].get<std::vector<int32_t>>(),
          "ids without specials: finch " + show(ids_plain) + " HF " + row["ids_plain"].dump());
    const auto ref = row["ids"].get<std::vector<int32_t>>();
    const auto decoded = plain.decode(ref, false);
    check(decoded == row["decoded"].get<std::string>(),
          "decode: finch " + nlohmann::json(decoded).dump() + " HF " + row["decoded"].dump());
    const auto decoded_skip = plain.decode(ref, true);
    check(decoded_skip == row["decoded_skip"].get<std::string>(),
          "decode skipping specials: finch " + nlohmann::json(decoded_skip).dump() + " HF " + row["decoded_skip"].dump());
    if (row.contains("tf_ids")) {
      const auto tf = pretrained.tokenizer.encode(text, true);
      check(tf == row["tf_ids"].get<std::vector<int32_t>>(),
            "AutoTokenizer ids: finch " + show(tf) + " transformers " + row["tf_ids"].dump());
    }
  }
  EXPECT_EQ(failures, 0) << entry["name"] << ": " << failures << " of " << rows << " strings differ";
  EXPECT_EQ(rows, entry["count"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, TokenizerParity, ::testing::ValuesIn(index_entries()),
                         [](const auto& info) {
                           std::string name = info.param["name"].template get<std::string>();
                           for (char& c : name)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TokenizerParity);

}  // namespace
}  // namespace finch::tokenizer
