#include "finch/core/files.h"

#include "../test_util.h"
#include "finch/core/error.h"

namespace finch {
namespace {

TEST(AtomicFile, CommitMakesTheFileVisible) {
  test::TempDir dir;
  write_file_atomic(dir / "a.txt", "hello");
  EXPECT_EQ(read_text_file(dir / "a.txt"), "hello");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1) << "temporary file left behind";
}

TEST(AtomicFile, AbandonedWriteLeavesThePreviousFileIntact) {
  test::TempDir dir;
  write_file_atomic(dir / "a.txt", "old");
  {
    AtomicFile file(dir / "a.txt");
    file.write("new, but never committed");
  }
  EXPECT_EQ(read_text_file(dir / "a.txt"), "old");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
}

TEST(AtomicFile, UnwritableDirectoryIsAnError) {
  test::expect_error([] { AtomicFile file("/nonexistent-dir/x"); }, {"/nonexistent-dir/x", "cannot create"});
}

TEST(MappedFile, WritesToTheMappingNeverReachTheFile) {
  test::TempDir dir;
  write_file_atomic(dir / "a.bin", "abcd");
  {
    auto mapped = MappedFile::open(dir / "a.bin");
    ASSERT_EQ(mapped->size(), 4u);
    mapped->data()[0] = 'z';
    EXPECT_EQ(mapped->data()[0], 'z');
  }
  EXPECT_EQ(read_text_file(dir / "a.bin"), "abcd");
}

}  // namespace
}  // namespace finch
