// The sample recipe on a hand-made tokenizer (ids by hand), and the token
// cache: reuse, invalidation, corruption, bad lines. Parity with the Python
// recipe on real tokenizers is tests/parity/data_parity_test.cpp.
#include <nlohmann/json.hpp>

#include <fstream>

#include "finch/data/samples.h"
#include "tiny_tokenizer.h"

namespace finch::data {
namespace {

using Ids = std::vector<int32_t>;
using Longs = std::vector<int64_t>;
namespace fs = std::filesystem;

TEST(Recipe, SpansFromTokensNoDoubleBosNoDoubleEos) {
  test::TempDir dir;
  test::write_tiny_tokenizer(dir / "tok");
  const auto tok = tokenizer::PretrainedTokenizer::from_dir(dir / "tok");
  const RecipeTokens tokens = RecipeTokens::of(tok);
  EXPECT_EQ(tokens.eos_id, 7);
  // Plain input: BOS from the post-processor, EOS appended.
  auto row = tokenize_row(tok, tokens, "abc ab", "c");
  EXPECT_EQ(row.ids, (Ids{6, 4, 3, 2, 7}));
  EXPECT_EQ(row.input_length, 3);
  // A rendered input already holds its BOS; an output ending in EOS keeps one EOS.
  row = tokenize_row(tok, tokens, "<s>ab", "a</s>");
  EXPECT_EQ(row.ids, (Ids{6, 3, 0, 7}));
  EXPECT_EQ(row.input_length, 2);
  // An empty output is just EOS.
  EXPECT_EQ(tokenize_row(tok, tokens, "a", "").ids, (Ids{6, 0, 7}));
}

TEST(Recipe, LabelsTruncationAndDrops) {
  const Ids ids{6, 4, 3, 2, 7};  // input span 3, output span 2
  Sample s;
  ASSERT_TRUE(make_sample(ids, 3, {}, s));
  EXPECT_EQ(s.input_ids, (Longs{6, 4, 3, 2, 7}));
  EXPECT_EQ(s.labels, (Longs{-100, -100, -100, 2, 7}));
  ASSERT_TRUE(make_sample(ids, 3, {0, /*train_on_inputs=*/true}, s));
  EXPECT_EQ(s.labels, (Longs{6, 4, 3, 2, 7}));
  ASSERT_TRUE(make_sample(ids, 3, {4, false}, s));  // cut from the right
  EXPECT_EQ(s.input_ids, (Longs{6, 4, 3, 2}));
  EXPECT_EQ(s.labels, (Longs{-100, -100, -100, 2}));
  EXPECT_FALSE(make_sample(ids, 3, {3, false}, s));  // only the input is left
  EXPECT_TRUE(make_sample(ids, 3, {2, true}, s));
  EXPECT_FALSE(make_sample(ids, 3, {1, true}, s));  // a lone first label is never a target
}

struct CacheTest : ::testing::Test {
  test::TempDir dir;
  fs::path jsonl = dir / "training.jsonl";
  void SetUp() override {
    test::write_tiny_tokenizer(dir / "tok");
    test::write_rows(jsonl, {{"abc ab", "c"}, {"<s>ab", "a</s>"}, {"a b c", ""}});
  }
  TokenizedSplit load(CacheReport& report) {
    const auto tok = tokenizer::PretrainedTokenizer::from_dir(dir / "tok");
    return TokenizedSplit::load(jsonl, tok, tokenizer_fingerprint(dir / "tok"), {}, &report);
  }
  std::vector<fs::path> caches() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir.path()))
      if (e.path().extension() == ".bin") out.push_back(e.path());
    return out;
  }
};

TEST_F(CacheTest, ReusedWhileUnchanged) {
  CacheReport report;
  auto split = load(report);
  EXPECT_TRUE(report.rebuilt);
  EXPECT_EQ(report.reason, "absent");
  EXPECT_EQ(report.cache_file.parent_path(), dir.path());
  EXPECT_EQ(report.cache_file.filename().string().rfind("training.tokens-", 0), 0u);
  ASSERT_EQ(split.size(), 3u);
  EXPECT_EQ(split.num_tokens(), 5 + 4 + 5);
  const auto before = fs::last_write_time(report.cache_file);
  split = load(report);
  EXPECT_FALSE(report.rebuilt);  // not tokenized again
  EXPECT_EQ(fs::last_write_time(report.cache_file), before);
  ASSERT_EQ(split.size(), 3u);
  EXPECT_EQ(Ids(split.ids(1).begin(), split.ids(1).end()), (Ids{6, 3, 0, 7}));
  EXPECT_EQ(split.input_length(1), 2);
  EXPECT_EQ(Ids(split.ids(2).begin(), split.ids(2).end()), (Ids{6, 0, 1, 2, 7}));
}

TEST_F(CacheTest, RebuiltWhenTheDataOrTheTokenizerChanges) {
  CacheReport report;
  load(report);
  const fs::path first = report.cache_file;
  test::write_rows(jsonl, {{"abc ab", "c"}, {"<s>ab", "a</s>"}, {"a b c", "a"}});  // one row changed
  auto split = load(report);
  EXPECT_TRUE(report.rebuilt);
  EXPECT_NE(report.cache_file, first);
  EXPECT_EQ(caches(), std::vector<fs::path>{report.cache_file});  // the stale cache is gone
  EXPECT_EQ(split.ids(2).size(), 6u);
  const fs::path second = report.cache_file;
  test::write_tiny_tokenizer(dir / "tok", R"(, "add_bos_token": false)");
  split = load(report);
  EXPECT_TRUE(report.rebuilt);
  EXPECT_NE(report.cache_file, second);
  EXPECT_EQ(Ids(split.ids(0).begin(), split.ids(0).end()), (Ids{4, 3, 2, 7}));  // no BOS any more
  load(report);
  EXPECT_FALSE(report.rebuilt);
}

TEST_F(CacheTest, CorruptCacheIsRebuilt) {
  CacheReport report;
  load(report);
  const fs::path cache = report.cache_file;
  const std::string good = read_text_file(cache);
  auto damage = [&](std::string bytes, const std::string& reason) {
    write_file_atomic(cache, bytes);
    auto split = load(report);
    EXPECT_TRUE(report.rebuilt) << reason;
    EXPECT_NE(report.reason.find(reason), std::string::npos) << report.reason;
    EXPECT_EQ(read_text_file(cache), good);
    EXPECT_EQ(split.size(), 3u);
  };
  std::string flipped = good;
  flipped[flipped.size() - 3] ^= 1;  // a token id
  damage(flipped, "checksum mismatch");
  damage(good.substr(0, good.size() - 4), "bytes where");
  damage(good.substr(0, 10), "shorter than its header");
  damage("XXXXXXXX" + good.substr(8), "not a finch token cache");
}

TEST_F(CacheTest, BadLinesNameTheFileAndLine) {
  auto check = [&](const std::string& line, const std::string& fault) {
    write_file_atomic(jsonl, "{\"input\": \"a\", \"output\": \"b\"}\n\n" + line + "\n");
    CacheReport report;
    test::expect_error([&] { load(report); }, {jsonl.string() + ":3", fault});
  };
  check("[1, 2]", "not a JSON object");
  check("{\"input\": \"a\"", "not a JSON object");
  check(R"({"output": "b"})", "no 'input' field");
  check(R"({"input": "a", "output": 3})", "'output' must be a string, got number");
  check(R"({"input": null, "output": "b"})", "'input' must be a string, got null");
}

TEST_F(CacheTest, SampleSetDropsRowsWithoutTargets) {
  CacheReport report;
  auto split = std::make_shared<const TokenizedSplit>(load(report));
  const SampleSet all(split, {});
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(all.dropped(), 0);
  const SampleSet cut(split, {3, false});  // row 1 (input 2 tokens) keeps a target, rows 0 and 2 do not
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut.dropped(), 2);
  EXPECT_EQ(cut.row(0), 1u);
  EXPECT_EQ(cut.get(0).labels, (Longs{-100, -100, 0}));
  EXPECT_EQ(cut.length(0), 3);
  check_dropped(all, "training.jsonl", 0, 0.0);
  check_dropped(cut, "training.jsonl", 3, 0.7);  // 2 of 3: a warning
  test::expect_error([&] { check_dropped(cut, "training.jsonl", 3, 0.5); },
                     {"training.jsonl: 2 of 3 samples (66.7%) have no target left", "max_seq_length 3", "at most 50.0%"});
}

}  // namespace
}  // namespace finch::data
