#include "finch/io/safetensors.h"

#include "../test_util.h"

namespace finch::safetensors {
namespace {

// A file with the given header JSON (length-prefixed) and `data_bytes` zero bytes.
void write_raw(const std::filesystem::path& path, const std::string& header, size_t data_bytes,
               std::optional<uint64_t> declared_length = std::nullopt) {
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = declared_length.value_or(header.size());
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << header << std::string(data_bytes, '\0');
}

TEST(Safetensors, RoundTripsEveryDtypeAsViewsOfTheFile) {
  test::TempDir dir;
  NamedTensors tensors;
  const at::Tensor base = at::arange(-6, 6, at::kDouble).reshape({3, 4}) / 2;
  for (auto dtype : {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong, at::kInt, at::kShort, at::kChar,
                     at::kByte, at::kBool, at::kFloat8_e4m3fn, at::kFloat8_e5m2}) {
    at::Tensor t = dtype == at::kByte ? (base + 3).to(dtype) : base.to(dtype);
    tensors.emplace_back(std::string("t.") + c10::toString(dtype), t);
  }
  tensors.emplace_back("empty", at::empty({0, 5}, at::kFloat));
  tensors.emplace_back("scalar", at::tensor(3.5f).reshape({}));
  save_file(dir / "x.safetensors", tensors, {{"format", "pt"}});

  File file(dir / "x.safetensors");
  EXPECT_EQ(file.header().metadata.at("format"), "pt");
  EXPECT_EQ(file.header().data_start % 8, 0u);
  for (const auto& [name, expected] : tensors) {
    const at::Tensor got = file.get(name);
    EXPECT_EQ(got.scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(at::equal(got.to(at::kDouble), expected.to(at::kDouble))) << name;
  }
  // No copy: two reads see the same bytes of the mapping.
  EXPECT_EQ(file.get("t.Float").data_ptr(), file.get("t.Float").data_ptr());
}

TEST(Safetensors, ReadsWhatItWritesShardedWithAnIndex) {
  test::TempDir dir;
  NamedTensors tensors = {{"a", at::ones({64}, at::kFloat)}, {"b", at::full({32}, 2.0, at::kFloat)},
                          {"c", at::full({16}, 3.0, at::kBFloat16)}};
  save_model_dir(dir.path(), tensors, /*max_shard_bytes=*/256);
  EXPECT_TRUE(std::filesystem::exists(dir / "model-00001-of-00002.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir / "model-00002-of-00002.safetensors"));
  const auto index = nlohmann::json::parse(read_text_file(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], 64 * 4 + 32 * 4 + 16 * 2);
  const auto store = TensorStore::open_model_dir(dir.path());
  EXPECT_EQ(store.names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(at::equal(store.get("c").to(at::kFloat), at::full({16}, 3.0)));

  // Saving again into the same directory, unsharded, leaves no stale shard or index.
  save_model_dir(dir.path(), tensors, /*max_shard_bytes=*/1 << 20);
  EXPECT_TRUE(std::filesystem::exists(dir / "model.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir / "model.safetensors.index.json"));
  EXPECT_FALSE(std::filesystem::exists(dir / "model-00001-of-00002.safetensors"));
  EXPECT_EQ(File(dir / "model.safetensors").header().metadata.at("format"), "pt")
      << "transformers refuses files without format metadata";
}

// huggingface_hub's split_state_dict_into_shards_factory, the cases its
// docstring and code spell out: in order, a tensor never split, a shard
// closed when the next tensor would overflow it, an oversized tensor alone
// in a shard placed before the one still filling.
TEST(Safetensors, ShardPlanIsHuggingfaceHubs) {
  using Plan = std::vector<std::vector<size_t>>;
  // The docstring's example: [6, 6, 2, 6, 2, 2] GB with a 10 GB limit -> [6], [6+2], [6+2+2].
  EXPECT_EQ(plan_shards({6, 6, 2, 6, 2, 2}, 10), (Plan{{0}, {1, 2}, {3, 4, 5}}));
  // Filling exactly to the limit is allowed; one byte over starts a new shard.
  EXPECT_EQ(plan_shards({5, 5, 1}, 10), (Plan{{0, 1}, {2}}));
  EXPECT_EQ(plan_shards({5, 6}, 10), (Plan{{0}, {1}}));
  // A tensor over the limit gets a shard of its own, emitted at once, while
  // the shard being filled stays open and is emitted later.
  EXPECT_EQ(plan_shards({2, 12, 3}, 10), (Plan{{1}, {0, 2}}));
  EXPECT_EQ(plan_shards({12}, 10), (Plan{{0}}));
  EXPECT_EQ(plan_shards({1, 2, 3}, 10), (Plan{{0, 1, 2}}));
  EXPECT_EQ(plan_shards({}, 10), (Plan{{}}));
}

TEST(Safetensors, ShardedSaveFollowsThePlanAndIndexesEveryTensor) {
  test::TempDir dir;
  // 400, 40, 800 (over the limit), 200 bytes with a 500-byte limit: [big], [a, b, c], [d].
  NamedTensors tensors = {{"a", at::ones({100})}, {"b", at::ones({10})}, {"big", at::ones({200})},
                          {"d", at::ones({50})}};
  const auto files = save_model_dir(dir.path(), tensors, 500, {{"format", "pt"}});
  EXPECT_EQ(files, (std::vector<std::string>{"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                             "model-00003-of-00003.safetensors", "model.safetensors.index.json"}));
  const auto index = nlohmann::json::parse(read_text_file(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], (100 + 10 + 200 + 50) * 4);
  EXPECT_EQ(index["metadata"]["total_parameters"], 100 + 10 + 200 + 50);
  EXPECT_EQ(index["weight_map"]["big"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["a"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["b"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["d"], "model-00003-of-00003.safetensors");
  EXPECT_EQ(File(dir / "model-00002-of-00003.safetensors").names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(File(dir / "model-00003-of-00003.safetensors").header().metadata.at("format"), "pt");
}

TEST(Safetensors, ParsesSizesAsHuggingfaceHub) {
  EXPECT_EQ(parse_size("5GB", "x"), 5'000'000'000u);
  EXPECT_EQ(parse_size("150KB", "x"), 150'000u);
  EXPECT_EQ(parse_size(" 1.5mb ", "x"), 1'500'000u);
  EXPECT_EQ(parse_size("2 TB", "x"), 2'000'000'000'000u);
  EXPECT_EQ(parse_size("4096", "x"), 4096u);
  for (const char* bad : {"", "GB", "5XB", "-1GB", "0", "abc", "5G", "1e400GB"})
    test::expect_error([&] { parse_size(bad, "--max-shard-size"); }, {"--max-shard-size", "expected a size"});
}

TEST(Safetensors, NullMetadataReadsAsNone) {
  test::TempDir dir;
  write_raw(dir / "x.safetensors", R"({"__metadata__": null, "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}})", 2);
  File file(dir / "x.safetensors");
  EXPECT_TRUE(file.header().metadata.empty());
  EXPECT_EQ(file.get("a").numel(), 2);
}

TEST(Safetensors, WriterRefusesDuplicateNames) {
  test::TempDir dir;
  EXPECT_THROW(save_file(dir / "x.safetensors", {{"a", at::ones({1})}, {"a", at::ones({1})}}), std::logic_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.safetensors"));
}

TEST(Safetensors, IndexFaultsAreNamed) {
  test::TempDir dir;
  save_file(dir / "s1.safetensors", {{"a", at::ones({2})}});
  write_file_atomic(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "s1.safetensors", "b": "s1.safetensors"}})");
  test::expect_error([&] { TensorStore::open_model_dir(dir.path()); }, {"index.json", "'b'", "does not hold it"});
  write_file_atomic(dir / "model.safetensors.index.json", R"({"weight_map": {"a": "../s1.safetensors"}})");
  test::expect_error([&] { TensorStore::open_model_dir(dir.path()); }, {"not a file in this directory"});
  test::TempDir empty;
  test::expect_error([&] { TensorStore::open_model_dir(empty.path()); }, {"no model.safetensors"});
}

struct Fault {
  std::string header;
  size_t data_bytes;
  std::string message;
  std::optional<uint64_t> declared_length = std::nullopt;
};

TEST(Safetensors, EveryHeaderFaultIsAOneLineErrorNamingTheFile) {
  const std::string ok = R"("a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})";
  const std::vector<Fault> faults = {
      {"{" + ok + "}", 8, "past the end", 1000},
      {"{" + ok + "}", 8, "exceeds the cap", kMaxHeaderBytes + 1},
      {"{\"a\": ", 0, "not valid JSON"},
      {"[1, 2]", 0, "not a JSON object"},
      {R"({"a": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}})", 8, "unknown dtype 'F33'"},
      {R"({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8, "not a non-negative integer"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}})", 8, "run past the 8-byte data area"},
      {R"({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8, "shape x dtype size is 12"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8, "reversed"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12, "overlaps"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12, "gap of 4 bytes"},
      {"{" + ok + "}", 12, "4 trailing bytes"},
      {R"({"a": {"dtype": "F32", "shape": [2]}})", 8, "data_offsets"},
      {R"({"__metadata__": {"k": 1}, )" + ok + "}", 8, "not a string"},
      {R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}})", 8,
       "overflows"},
      {R"({"a": {"dtype": "F32", "shape": [0, 4294967296, 4294967296], "data_offsets": [0, 0]}})", 0, "overflows"},
  };
  test::TempDir dir;
  for (size_t i = 0; i < faults.size(); ++i) {
    const auto path = dir / ("f" + std::to_string(i) + ".safetensors");
    write_raw(path, faults[i].header, faults[i].data_bytes, faults[i].declared_length);
    SCOPED_TRACE(faults[i].message);
    test::expect_error([&] { File file(path); }, {path.string(), faults[i].message});
  }
  std::ofstream(dir / "short.safetensors") << "abc";
  test::expect_error([&] { File file(dir / "short.safetensors"); }, {"shorter than the 8-byte"});
}

}  // namespace
}  // namespace finch::safetensors
