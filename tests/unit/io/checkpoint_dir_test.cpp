#include "finch/io/checkpoint_dir.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "../test_util.h"
#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/io/safetensors.h"

namespace finch::io {
namespace {

namespace fs = std::filesystem;

// A checkpoint with a nested file, as a real one has (optimizer/, ...).
void write_sample(const fs::path& dir, const std::string& weights = "weights-v1") {
  write_checkpoint_dir(dir, [&](const fs::path& tmp) {
    write_file_atomic(tmp / "model.safetensors", weights);
    fs::create_directory(tmp / "optimizer");
    write_file_atomic(tmp / "optimizer" / "state.bin", "moments");
  });
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int64_t> steps_of(const std::vector<CheckpointEntry>& entries) {
  std::vector<int64_t> steps;
  for (const auto& e : entries) steps.push_back(e.step);
  return steps;
}

TEST(CheckpointDir, WrittenCheckpointVerifiesAndListsEveryFile) {
  test::TempDir dir;
  write_sample(dir / "checkpoint-3");
  EXPECT_EQ(verify_checkpoint_dir(dir / "checkpoint-3"), "");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"checkpoint-3"}) << "temporary folder left behind";
  auto manifest = nlohmann::json::parse(read_text_file(dir / "checkpoint-3" / "MANIFEST.json"));
  ASSERT_EQ(manifest["files"].size(), 2u);
  EXPECT_EQ(manifest["files"]["optimizer/state.bin"]["size"], 7);
  // sha256("moments"), from Python's hashlib.
  EXPECT_EQ(manifest["files"]["optimizer/state.bin"]["sha256"],
            "690a8d18f75dfaa79dd8134ac62cdad42fffe0f34cb78dd14e2d3aae3ae83ad3");
}

TEST(CheckpointDir, ChangedFilesFailVerificationNamingTheFile) {
  test::TempDir dir;
  const fs::path ckpt = dir / "checkpoint-1";
  write_sample(ckpt);
  std::ofstream(ckpt / "model.safetensors", std::ios::binary) << "weights-v2";  // same size, other bytes
  std::string why = verify_checkpoint_dir(ckpt);
  EXPECT_NE(why.find("model.safetensors"), std::string::npos) << why;
  EXPECT_NE(why.find("sha256"), std::string::npos) << why;

  write_sample(ckpt);
  std::ofstream(ckpt / "optimizer" / "state.bin", std::ios::binary) << "mom";  // truncated
  why = verify_checkpoint_dir(ckpt);
  EXPECT_NE(why.find("optimizer/state.bin: 3 bytes, the manifest says 7"), std::string::npos) << why;

  write_sample(ckpt);
  fs::remove(ckpt / "model.safetensors");
  why = verify_checkpoint_dir(ckpt);
  EXPECT_NE(why.find("model.safetensors: missing"), std::string::npos) << why;

  write_sample(ckpt);
  std::ofstream(ckpt / "MANIFEST.json") << "{\"files\": ";
  why = verify_checkpoint_dir(ckpt);
  EXPECT_NE(why.find("MANIFEST.json: not readable JSON"), std::string::npos) << why;

  fs::remove(ckpt / "MANIFEST.json");
  why = verify_checkpoint_dir(ckpt);
  EXPECT_NE(why.find("MANIFEST.json: missing"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);
}

TEST(CheckpointDir, WriterKilledBeforeTheRenameLeavesNoCheckpoint) {
  test::TempDir dir;
  write_sample(dir / "checkpoint-1");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    write_checkpoint_dir(dir / "checkpoint-2", [](const fs::path& tmp) {
      write_file_atomic(tmp / "model.safetensors", "half");
      ::kill(::getpid(), SIGKILL);
    });
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  const std::string leftover = fmt::format(".tmp-checkpoint-2-{}", child);
  ASSERT_TRUE(fs::exists(dir / leftover));

  EXPECT_EQ(steps_of(list_checkpoints(dir.path())), std::vector<int64_t>{1});
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"checkpoint-1"}) << "leftover not removed";
}

TEST(CheckpointDir, FailedWriteKeepsThePreviousCheckpoint) {
  test::TempDir dir;
  write_sample(dir / "checkpoint-1");
  test::expect_error(
      [&] { write_checkpoint_dir(dir / "checkpoint-1", [](const fs::path&) { fail("disk full"); }); }, {"disk full"});
  EXPECT_EQ(verify_checkpoint_dir(dir / "checkpoint-1"), "");
  EXPECT_EQ(read_text_file(dir / "checkpoint-1" / "model.safetensors"), "weights-v1");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"checkpoint-1"});
}

TEST(CheckpointDir, ReplacingSwapsInTheWholeNewFolder) {
  test::TempDir dir;
  write_sample(dir / "final");
  write_file_atomic(dir / "final" / "stale.txt", "from an older layout");
  write_checkpoint_dir(dir / "final/", [](const fs::path& tmp) { write_file_atomic(tmp / "model.safetensors", "v2"); });
  EXPECT_EQ(verify_checkpoint_dir(dir / "final"), "");
  EXPECT_EQ(names_in(dir / "final"), (std::vector<std::string>{"MANIFEST.json", "model.safetensors"}));
  EXPECT_EQ(read_text_file(dir / "final" / "model.safetensors"), "v2");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"final"}) << "old folder left behind";
}

TEST(CheckpointDir, ListsCompleteCheckpointsByStepAndSkipsOthers) {
  test::TempDir dir;
  for (const char* name : {"checkpoint-10", "checkpoint-2", "checkpoint-3", "checkpoint-x", "checkpoint--4", "final"})
    write_sample(dir / name);
  fs::remove(dir / "checkpoint-3" / "model.safetensors");
  fs::create_directory(dir / "checkpoint-7");  // no manifest
  const auto entries = list_checkpoints(dir.path());
  EXPECT_EQ(steps_of(entries), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(entries.back().dir, dir / "checkpoint-10");
  EXPECT_TRUE(list_checkpoints(dir / "absent").empty());
}

// Expected survivors from transformers 5.23's trainer_utils.rotate_checkpoints
// on the same folders (checkpoint-1..5).
TEST(CheckpointDir, RotationKeepsTheBestAndTheNewest) {
  struct Case {
    int64_t limit;
    std::optional<int64_t> best;
    std::vector<int64_t> kept;
  };
  for (const auto& c : std::vector<Case>{{2, std::nullopt, {4, 5}},
                                         {2, 2, {2, 5}},
                                         {3, 1, {1, 4, 5}},
                                         {1, 5, {5}},
                                         {1, 3, {3, 5}},
                                         {9, 1, {1, 2, 3, 4, 5}}}) {
    test::TempDir dir;
    for (int step = 1; step <= 5; ++step) write_sample(dir / fmt::format("checkpoint-{}", step));
    std::optional<fs::path> best;
    if (c.best) best = dir / fmt::format("checkpoint-{}", *c.best);
    rotate_checkpoints(dir.path(), c.limit, best);
    EXPECT_EQ(steps_of(list_checkpoints(dir.path())), c.kept) << "limit " << c.limit;
  }
}

}  // namespace
}  // namespace finch::io
