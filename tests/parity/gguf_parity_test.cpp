// finch's GGUF dequantisation against gguf-py's, bit for bit, on the files
// tests/parity/gen/make_gguf_cases.py writes (random blocks of every supported
// type, plus gguf.quants.quantize output, at alignments 32 and 64), and the
// metadata of every value type read back.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "finch/io/gguf.h"
#include "finch/io/gguf_dequant.h"
#include "finch/io/safetensors.h"

namespace finch::gguf {
namespace {

const std::filesystem::path kCases = std::filesystem::path(FINCH_PARITY_DIR) / "gguf" / "dequant";

TEST(GgufDequantParity, EveryTypeBitExactWithGgufPy) {
  const auto reference = safetensors::TensorStore::open_file(kCases / "reference.safetensors");
  std::set<std::string> types_seen;
  int compared = 0;
  for (const std::string stem : {"types", "types_align64"}) {
    const File file(kCases / (stem + ".gguf"));
    for (const auto& info : file.tensors()) {
      SCOPED_TRACE(stem + "/" + info.name);
      const at::Tensor ours = dequantize(file, info);
      const at::Tensor theirs = reference.get(stem + "/" + info.name);
      ASSERT_EQ(ours.sizes(), theirs.sizes());
      // Bit patterns, so that -0.0 vs 0.0 or a changed NaN payload would show.
      const at::Tensor a = ours.contiguous().view(at::kInt), b = theirs.contiguous().view(at::kInt);
      const int64_t differing = a.ne(b).sum().item<int64_t>();
      EXPECT_EQ(differing, 0) << differing << " of " << a.numel() << " values differ";
      types_seen.insert(ggml_type_name(info.type));
      ++compared;
    }
  }
  EXPECT_EQ(types_seen, (std::set<std::string>{"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                                "Q4_K", "Q5_K", "Q6_K"}));
  EXPECT_EQ(compared, 32);
}

TEST(GgufDequantParity, MetadataOfEveryValueType) {
  const File f(kCases / "types.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(File(kCases / "types_align64.gguf").alignment(), 64u);
  EXPECT_EQ(f.get_int("test.u8"), 200);
  EXPECT_EQ(f.get_int("test.i8"), -100);
  EXPECT_EQ(f.get_int("test.u16"), 60000);
  EXPECT_EQ(f.get_int("test.i16"), -30000);
  EXPECT_EQ(f.get_int("test.u32"), 4000000000LL);
  EXPECT_EQ(f.get_int("test.i32"), -2000000000LL);
  EXPECT_EQ(f.find("test.u64")->u, (1ull << 63) + 5);
  EXPECT_EQ(f.get_int("test.i64"), -(1LL << 62));
  EXPECT_EQ(f.get_float("test.f32"), static_cast<double>(0.1f));
  EXPECT_EQ(f.get_float("test.f64"), 0.1);
  EXPECT_TRUE(f.get_bool("test.bool"));
  EXPECT_EQ(f.get_string("test.string"), "h\xc3\xa9llo \xf0\x9f\x98\x80");
  EXPECT_EQ(f.get_strings("test.strings"), (std::vector<std::string>{"a", "", "\xe2\x96\x81" "b c"}));
  EXPECT_EQ(f.get_ints("test.ints"), (std::vector<int64_t>{1, -2, 3}));
  const Value* nested = f.find("test.nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->element_type, ValueType::ARRAY);
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(nested->items[2].items.size(), 3u);
  EXPECT_EQ(nested->items[2].items[2].i + static_cast<int64_t>(nested->items[2].items[2].u), 6);
}

}  // namespace
}  // namespace finch::gguf
