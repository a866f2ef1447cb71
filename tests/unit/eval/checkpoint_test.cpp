#include "finch/eval/checkpoint.h"

#include <nlohmann/json.hpp>

#include "../test_util.h"
#include "finch/core/files.h"
#include "finch/io/checkpoint_dir.h"

namespace finch::eval {
namespace {

namespace fs = std::filesystem;

CheckpointQuery given(const fs::path& dir) { return {dir, {}, {}}; }
CheckpointQuery in_run(const fs::path& run) { return {{}, run, {}}; }
CheckpointQuery of_model(const std::string& id) { return {{}, {}, id}; }

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  write_file_atomic(path, text);
}

void make_checkpoint(const fs::path& dir) {
  io::write_checkpoint_dir(dir, [](const fs::path& tmp) {
    write_file_atomic(tmp / "adapter_config.json", R"({"base_model_name_or_path": "some/model", "r": 4})");
    write_file_atomic(tmp / "adapter_model.safetensors", "not read here");
  });
}

TEST(FindCheckpoint, NewestCompleteOneSkippingConvertedAndTornFolders) {
  test::TempDir dir;
  const fs::path run = dir / "run";
  make_checkpoint(run / "checkpoint-4");
  make_checkpoint(run / "checkpoint-8");
  make_checkpoint(run / "checkpoint-12");
  fs::create_directories(run / "checkpoint-20.hf_model");
  fs::create_directories(run / "checkpoint-20.hf_peft");
  write_file_atomic(run / "checkpoint-12" / "adapter_model.safetensors", "torn");
  fs::create_directories(run / ".tmp-checkpoint-16-999999");  // a trainer still writing: left alone
  EXPECT_EQ(find_checkpoint(in_run(run)), run / "checkpoint-8");
  EXPECT_TRUE(fs::exists(run / ".tmp-checkpoint-16-999999"));
  // A given folder wins; a torn one is refused, naming the file.
  EXPECT_EQ(find_checkpoint({run / "checkpoint-4", run, {}}), run / "checkpoint-4");
  test::expect_error([&] { find_checkpoint(given(run / "checkpoint-12")); },
                     {"checkpoint-12", "incomplete", "adapter_model.safetensors"});
  test::expect_error([&] { find_checkpoint(given(run / "checkpoint-99")); }, {"checkpoint-99", "no such folder"});
}

TEST(FindCheckpoint, SaysWhereItLooked) {
  test::TempDir dir;
  test::expect_error([&] { find_checkpoint(in_run(dir / "nope")); }, {"no results folder", "nope"});
  fs::create_directories(dir / "run");
  test::expect_error([&] { find_checkpoint(in_run(dir / "run")); }, {"no complete checkpoint-N", "run"});
  make_checkpoint(dir / "run" / "checkpoint-3");
  fs::remove(dir / "run" / "checkpoint-3" / "MANIFEST.json");
  test::expect_error([&] { find_checkpoint(in_run(dir / "run")); },
                     {"no complete checkpoint-N", "checkpoint-3", "MANIFEST.json: missing"});
  test::expect_error([&] { find_checkpoint({}); }, {"--checkpoint", "--results", "--hf_model_id"});
  test::expect_error([&] { find_checkpoint(of_model("no-org/no-such-model-xyz")); },
                     {"no results folder", "results/no-org/no-such-model-xyz"});
}

TEST(DescribeCheckpoint, AdapterOrModelAndWhereTheTokenizerIs) {
  test::TempDir dir;
  // A base model folder given by path (hub::model_dir resolves it to itself).
  write(dir / "base/config.json", "{}");
  write(dir / "base/tokenizer.json", "{}");
  write(dir / "adapter/adapter_config.json",
                    nlohmann::json{{"base_model_name_or_path", (dir / "base").string()}}.dump());
  const CheckpointInfo adapter = describe_checkpoint(dir / "adapter");
  EXPECT_EQ(adapter.kind, CheckpointKind::lora_adapter);
  EXPECT_EQ(adapter.base_model, (dir / "base").string());
  EXPECT_EQ(adapter.tokenizer_dir, dir / "base") << "the adapter holds no tokenizer";
  EXPECT_FALSE(adapter.step.has_value());
  write(dir / "adapter/tokenizer_config.json", "{}");
  EXPECT_EQ(describe_checkpoint(dir / "adapter").tokenizer_dir, dir / "adapter");
  // --base-model replaces the recorded base.
  test::expect_error([&] { describe_checkpoint(dir / "adapter", (dir / "moved").string()); }, {"moved"});

  write(dir / "checkpoint-7/config.json", "{}");
  write(dir / "checkpoint-7/model.safetensors", "");
  write(dir / "checkpoint-7/trainer_state.json", R"({"run": {"model": "org/base"}})");
  const CheckpointInfo full = describe_checkpoint(dir / "checkpoint-7");
  EXPECT_EQ(full.kind, CheckpointKind::full_model);
  EXPECT_EQ(full.step, 7);
  EXPECT_EQ(full.base_model, "org/base");
  EXPECT_EQ(full.base_dir, dir / "checkpoint-7");

  fs::create_directories(dir / "empty");
  test::expect_error([&] { describe_checkpoint(dir / "empty"); }, {"empty", "adapter_config.json", "config.json"});
}

}  // namespace
}  // namespace finch::eval
