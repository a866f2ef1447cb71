// Split selection for local folders, against what `datasets` chooses. The
// expected files were produced by datasets 4.x:
//   DataFilesDict.from_patterns(get_data_patterns(folder), base_path=folder)
// on these same layouts (relative paths, in datasets' order).
#include <fstream>

#include "finch/data/data_files.h"
#include "finch/data/source.h"
#include "../test_util.h"

namespace finch::data {
namespace {

using Splits = std::map<std::string, std::vector<std::string>>;

TEST(DataFiles, MatchesDatasetsSplitInference) {
  EXPECT_EQ(split_data_files({"train.jsonl", "test.jsonl", "validation.csv", "README.md"}),
            (Splits{{"train", {"train.jsonl"}}, {"validation", {"validation.csv"}}, {"test", {"test.jsonl"}}}));
  EXPECT_EQ(split_data_files({"data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet",
                              "data/test-00000-of-00001.parquet", "other/x.jsonl"}),
            (Splits{{"train", {"data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"}},
                    {"test", {"data/test-00000-of-00001.parquet"}}}));
  EXPECT_EQ(split_data_files({"data/train/a.jsonl", "data/train/b.jsonl", "data/dev/c.jsonl", "train.jsonl"}),
            (Splits{{"train", {"data/train/a.jsonl", "data/train/b.jsonl"}}, {"validation", {"data/dev/c.jsonl"}}}));
  EXPECT_EQ(split_data_files({"a.jsonl", "b/c.jsonl", ".hidden/d.jsonl", "__pycache__/e.jsonl"}),
            (Splits{{"train", {"a.jsonl", "b/c.jsonl"}}}));
  EXPECT_EQ(split_data_files({"my_train_file.jsonl", "my-eval.csv", "training.json", "x.jsonl"}),
            (Splits{{"train", {"my_train_file.jsonl", "training.json"}}, {"test", {"my-eval.csv"}}}));
}

TEST(DataFiles, GlobSemantics) {
  EXPECT_TRUE(glob_match("**/train/**", "train/a.jsonl"));
  EXPECT_TRUE(glob_match("**/train/**", "x/y/train/z/a.jsonl"));
  EXPECT_FALSE(glob_match("**/train/**", "trainer/a.jsonl"));
  EXPECT_TRUE(glob_match("**/train[-._ 0-9]*", "a/train-0.jsonl"));
  EXPECT_FALSE(glob_match("**/train[-._ 0-9]*", "a/trainx.jsonl"));
  EXPECT_FALSE(glob_match("*.jsonl", "a/b.jsonl"));
  EXPECT_FALSE(glob_match("**/train[-._ 0-9]*/**", "train.jsonl"));
}

void touch(const std::filesystem::path& p) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << "{}\n";
}

TEST(Source, LocalFolderBySplit) {
  test::TempDir dir;
  touch(dir / "data/train/a.jsonl");
  touch(dir / "data/train/b.parquet");
  touch(dir / "data/train/notes.txt");
  touch(dir / "data/dev/c.csv");
  auto train = resolve_dataset_files(dir.path().string(), "", "train", "main");
  EXPECT_EQ(train.files, (std::vector<std::filesystem::path>{dir / "data/train/a.jsonl", dir / "data/train/b.parquet"}));
  auto validation = resolve_dataset_files(dir.path().string(), "", "validation", "main");
  EXPECT_EQ(validation.files, std::vector<std::filesystem::path>{dir / "data/dev/c.csv"});
  test::expect_error([&] { resolve_dataset_files(dir.path().string(), "", "test", "main"); },
                     {"split 'test' not found", "train, validation"});
}

TEST(Source, LocalFolderWithoutSplitNamesIsTrain) {
  test::TempDir dir;
  touch(dir / "one.jsonl");
  touch(dir / "two/three.csv");
  auto train = resolve_dataset_files(dir.path().string(), "", "train", "main");
  EXPECT_EQ(train.files, (std::vector<std::filesystem::path>{dir / "one.jsonl", dir / "two/three.csv"}));
}

TEST(Source, LocalFolderByConfig) {
  test::TempDir dir;
  touch(dir / "en/train.jsonl");
  touch(dir / "fr/train.jsonl");
  touch(dir / "fr/test.jsonl");
  auto fr = resolve_dataset_files(dir.path().string(), "fr", "test", "main");
  EXPECT_EQ(fr.files, std::vector<std::filesystem::path>{dir / "fr/test.jsonl"});
  test::expect_error([&] { resolve_dataset_files(dir.path().string(), "de", "train", "main"); },
                     {"config 'de' not found", "en/train.jsonl"});
}

TEST(Source, LocalFileAsIs) {
  test::TempDir dir;
  touch(dir / "rows.jsonl");
  auto files = resolve_dataset_files((dir / "rows.jsonl").string(), "", "train", "main");
  EXPECT_EQ(files.files, std::vector<std::filesystem::path>{dir / "rows.jsonl"});
}

}  // namespace
}  // namespace finch::data
