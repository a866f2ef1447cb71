// Tokenizer pipeline: hand-made tokenizer.json files whose ids follow from the
// rules by hand; parity with HF on real tokenizers is tests/parity/tokenizer_parity_test.cpp.
#include <nlohmann/json.hpp>

#include "finch/tokenizer/regex.h"
#include "finch/tokenizer/tokenizer.h"
#include "finch/tokenizer/tokenizer_config.h"
#include "finch/core/files.h"
#include "../test_util.h"

namespace finch::tokenizer {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

json bpe_json() {
  // a b c and their merges: "a b" (rank 0) -> ab, "ab c" (rank 1) -> abc.
  return json::parse(R"({
    "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "<unk>": 5, "<0x7A>": 6},
              "merges": ["a b", ["ab", "c"]], "unk_token": "<unk>"},
    "pre_tokenizer": {"type": "WhitespaceSplit"},
    "added_tokens": [{"id": 7, "content": "<s>", "special": true, "normalized": false}]
  })");
}

TEST(Tokenizer, BpeMergesByRankAndSplitsOnAddedTokens) {
  const auto t = Tokenizer::from_json(bpe_json(), "test");
  EXPECT_EQ(t.encode("abc ab a"), (Ids{4, 3, 0}));
  EXPECT_EQ(t.encode("ab<s>c"), (Ids{3, 7, 2}));
  EXPECT_EQ(t.encode(""), Ids{});
  EXPECT_EQ(t.decode({4, 7, 3}, false), "abc <s> ab");  // no decoder: tokens joined by spaces
  EXPECT_EQ(t.decode({4, 7, 3}, true), "abc ab");
}

TEST(Tokenizer, UnknownCharactersFuseAndFallBackToBytes) {
  auto j = bpe_json();
  EXPECT_EQ(Tokenizer::from_json(j, "test").encode("axxb"), (Ids{0, 5, 5, 1}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(Tokenizer::from_json(j, "test").encode("axxb"), (Ids{0, 5, 1}));
  j["model"]["byte_fallback"] = true;
  EXPECT_EQ(Tokenizer::from_json(j, "test").encode("az"), (Ids{0, 6}));  // z -> <0x7A>
}

TEST(Tokenizer, PostProcessorAddsTemplateTokens) {
  auto j = bpe_json();
  j["post_processor"] = json::parse(R"({"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "special_tokens": {"<s>": {"id": "<s>", "ids": [7], "tokens": ["<s>"]}}})");
  const auto t = Tokenizer::from_json(j, "test");
  EXPECT_EQ(t.encode("ab", true), (Ids{7, 3}));
  EXPECT_EQ(t.encode("ab", false), (Ids{3}));
}

TEST(Tokenizer, ConfigFlagsRebuildThePostProcessor) {
  test::TempDir dir;
  write_file_atomic(dir / "tokenizer.json", bpe_json().dump());
  write_file_atomic(dir / "tokenizer_config.json",
                    R"({"bos_token": {"content": "<s>"}, "eos_token": "c", "add_bos_token": true, "add_eos_token": true,
                        "chat_template": [{"name": "default", "template": "x"}, {"name": "tool_use", "template": "y"}]})");
  const auto p = PretrainedTokenizer::from_dir(dir.path());
  EXPECT_EQ(p.tokenizer.encode("ab"), (Ids{7, 3, 2}));
  EXPECT_EQ(p.config.chat_template("tool_use"), "y");
  test::expect_error([&] { p.config.chat_template("nope"); }, {"no chat template named 'nope'", "default, tool_use"});
}

TEST(Tokenizer, BadFilesAreOneLineErrorsNamingThePath) {
  auto j = bpe_json();
  j["normalizer"] = json::parse(R"({"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Magic"}]})");
  test::expect_error([&] { Tokenizer::from_json(j, "tok.json"); },
                     {"tok.json: normalizer.normalizers[1]", "normalizer type 'Magic' is not supported"});
  j = bpe_json();
  j["model"]["merges"].push_back("a q");
  test::expect_error([&] { Tokenizer::from_json(j, "tok.json"); }, {"merges[2]", "'q' is not in the vocabulary"});
  j = json::parse(R"({"model": {"vocab": [["a", 0.0]], "unk_id": 0}})");
  test::expect_error([&] { Tokenizer::from_json(j, "tok.json"); }, {"Unigram is not supported"});
  j = bpe_json();
  j["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"})");
  test::expect_error([&] { Tokenizer::from_json(j, "tok.json"); }, {"tok.json: pre_tokenizer", "bad regex"});
  test::expect_error([&] { Tokenizer::from_json(bpe_json(), "t").encode("a\xff"); }, {"not valid UTF-8"});
}

TEST(Tokenizer, HostileRegexFailsInsteadOfHanging) {
  const Regex catastrophic("(a+)+$", "tok.json: pre_tokenizer.pattern");
  const std::string text = std::string(64, 'a') + "b";
  test::expect_error([&] { catastrophic.find_all(text); }, {"tok.json: pre_tokenizer.pattern", "regex match failed"});
}

}  // namespace
}  // namespace finch::tokenizer
