// The GGUF reader on hand-built files: what it accepts, and the one-line error
// for each kind of damage. Dequantisation of hand-made blocks against values
// worked out by hand (the bit-exact sweep against gguf-py is in tests/parity).
#include "finch/io/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "finch/io/gguf_dequant.h"
#include "../test_util.h"

namespace finch::gguf {
namespace {

// Builds GGUF bytes field by field.
class Builder {
 public:
  Builder& raw(const void* p, size_t n) {
    bytes_.append(static_cast<const char*>(p), n);
    return *this;
  }
  template <typename T>
  Builder& put(T v) { return raw(&v, sizeof(T)); }
  Builder& str(const std::string& s) { return put<uint64_t>(s.size()).raw(s.data(), s.size()); }
  Builder& header(uint32_t version, uint64_t tensors, uint64_t kvs) {
    return raw("GGUF", 4).put<uint32_t>(version).put<uint64_t>(tensors).put<uint64_t>(kvs);
  }
  Builder& kv_u32(const std::string& key, uint32_t v) { return str(key).put<uint32_t>(4).put<uint32_t>(v); }
  Builder& kv_str(const std::string& key, const std::string& v) { return str(key).put<uint32_t>(8).str(v); }
  Builder& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) put<uint64_t>(d);
    return put<uint32_t>(type).put<uint64_t>(offset);
  }
  Builder& pad(size_t alignment = 32) {
    bytes_.append((alignment - bytes_.size() % alignment) % alignment, '\0');
    return *this;
  }
  std::string bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

std::filesystem::path write(const test::TempDir& dir, const std::string& bytes, const std::string& name = "m.gguf") {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// A valid file: two metadata entries, one 2x4 F32 tensor.
std::string valid_file() {
  Builder b;
  b.header(3, 1, 2).kv_str("general.architecture", "llama").kv_u32("llama.block_count", 2);
  b.tensor("w", {4, 2}, ggml::F32, 0).pad();
  for (int i = 0; i < 8; ++i) b.put<float>(static_cast<float>(i));
  return b.bytes();
}

TEST(Gguf, ReadsMetadataAndTensors) {
  test::TempDir dir;
  const File f(write(dir, valid_file()));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.block_count"), 2);
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].torch_shape(), (std::vector<int64_t>{2, 4}));
  const at::Tensor w = dequantize(f, f.tensors()[0]);
  EXPECT_TRUE(w.equal(at::arange(8, at::kFloat).reshape({2, 4})));
}

TEST(Gguf, ReadsVersion2) {
  test::TempDir dir;
  std::string bytes = valid_file();
  bytes[4] = 2;
  EXPECT_EQ(File(write(dir, bytes)).version(), 2u);
}

TEST(Gguf, WrongMetadataTypeNamesTheKey) {
  test::TempDir dir;
  const File f(write(dir, valid_file()));
  test::expect_error([&] { f.get_int("general.architecture"); }, {"m.gguf", "general.architecture", "integer"});
  test::expect_error([&] { f.get_string("nope"); }, {"m.gguf", "'nope'", "missing"});
}

TEST(Gguf, Truncated) {
  test::TempDir dir;
  const std::string bytes = valid_file();
  test::expect_error([&] { File(write(dir, bytes.substr(0, bytes.size() - 4))); },
                     {"m.gguf", "not a valid GGUF file", "tensor 'w'", "runs past"});
  test::expect_error([&] { File(write(dir, bytes.substr(0, 50))); },
                     {"m.gguf", "not a valid GGUF file", "metadata key", "remain"});
}

TEST(Gguf, BadMagic) {
  test::TempDir dir;
  std::string bytes = valid_file();
  bytes[0] = 'X';
  test::expect_error([&] { File(write(dir, bytes)); }, {"m.gguf", "magic"});
}

TEST(Gguf, BadVersion) {
  test::TempDir dir;
  std::string bytes = valid_file();
  bytes[4] = 7;
  test::expect_error([&] { File(write(dir, bytes)); }, {"m.gguf", "version 7 is not supported"});
  std::string big = valid_file();
  big[4] = 0, big[7] = 3;
  test::expect_error([&] { File(write(dir, big)); }, {"m.gguf", "big-endian"});
}

TEST(Gguf, OffsetOutsideTheData) {
  test::TempDir dir;
  Builder b;
  b.header(3, 1, 0).tensor("w", {4, 2}, ggml::F32, 64).pad();
  for (int i = 0; i < 8; ++i) b.put<float>(0);
  test::expect_error([&] { File(write(dir, b.bytes())); }, {"m.gguf", "tensor 'w'", "offset 64", "runs past"});
  Builder misaligned;
  misaligned.header(3, 1, 0).tensor("w", {4}, ggml::F32, 4).pad().put<uint64_t>(0).put<uint64_t>(0);
  test::expect_error([&] { File(write(dir, misaligned.bytes())); }, {"m.gguf", "not a multiple of the alignment 32"});
}

TEST(Gguf, UnknownTypes) {
  test::TempDir dir;
  Builder b;
  b.header(3, 1, 0).tensor("w", {32}, 99, 0).pad();
  test::expect_error([&] { File(write(dir, b.bytes())); }, {"m.gguf", "tensor 'w'", "unknown ggml type 99"});
  Builder v;
  v.header(3, 0, 1).str("k").put<uint32_t>(13).put<uint32_t>(0);
  test::expect_error([&] { File(write(dir, v.bytes())); }, {"m.gguf", "'k'", "unknown value type 13"});
}

TEST(Gguf, CountsAndLengthsWithinTheFile) {
  test::TempDir dir;
  Builder huge_count;
  huge_count.header(3, 0, 1ull << 60);
  test::expect_error([&] { File(write(dir, huge_count.bytes())); }, {"m.gguf", "metadata count"});
  Builder long_string;
  long_string.header(3, 0, 1).str("k").put<uint32_t>(8).put<uint64_t>(1000).raw("abc", 3);
  test::expect_error([&] { File(write(dir, long_string.bytes())); }, {"m.gguf", "length 1000"});
  Builder long_array;
  long_array.header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(1ull << 40);
  test::expect_error([&] { File(write(dir, long_array.bytes())); }, {"m.gguf", "'k'", "cannot fit"});
}

TEST(Gguf, BadDimsAndBlocks) {
  test::TempDir dir;
  Builder dims;
  dims.header(3, 1, 0).tensor("w", {1, 1, 1, 1, 1}, ggml::F32, 0).pad();
  test::expect_error([&] { File(write(dir, dims.bytes())); }, {"m.gguf", "tensor 'w' has 5 dimensions"});
  Builder zero;
  zero.header(3, 1, 0).tensor("w", {0}, ggml::F32, 0).pad();
  test::expect_error([&] { File(write(dir, zero.bytes())); }, {"m.gguf", "tensor 'w'", "bad dimension 0"});
  Builder block;
  block.header(3, 1, 0).tensor("w", {48}, ggml::Q8_0, 0).pad();
  test::expect_error([&] { File(write(dir, block.bytes())); }, {"m.gguf", "row length 48", "Q8_0 block size 32"});
}

TEST(Gguf, AlignmentAndDuplicates) {
  test::TempDir dir;
  Builder bad_alignment;
  bad_alignment.header(3, 0, 1).kv_u32("general.alignment", 24);
  test::expect_error([&] { File(write(dir, bad_alignment.bytes())); }, {"m.gguf", "alignment 24"});
  Builder twice;
  twice.header(3, 0, 2).kv_u32("a", 1).kv_u32("a", 2);
  test::expect_error([&] { File(write(dir, twice.bytes())); }, {"m.gguf", "'a' appears twice"});
  Builder aligned;  // alignment 64: the data area starts at the next multiple of 64
  aligned.header(3, 1, 1).kv_u32("general.alignment", 64).tensor("w", {2}, ggml::F32, 0).pad(64);
  aligned.put<float>(1.5f).put<float>(-2.0f);
  const File f(write(dir, aligned.bytes()));
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_TRUE(dequantize(f, f.tensors()[0]).equal(at::tensor({1.5f, -2.0f})));
}

TEST(Gguf, UnsupportedTypeForDequantisation) {
  test::TempDir dir;
  Builder b;
  b.header(3, 1, 0).tensor("blk.0.w", {256}, 10, 0).pad();  // Q2_K, 84 bytes
  b.raw(std::string(84, '\0').data(), 84);
  const File f(write(dir, b.bytes()));
  test::expect_error([&] { dequantize(f, f.tensors()[0]); },
                     {"m.gguf", "unsupported ggml type Q2_K for tensor 'blk.0.w'"});
}

TEST(GgufDequant, Fp16) {
  EXPECT_EQ(fp16_to_fp32(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xC000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::isinf(fp16_to_fp32(0x7C00)));
  EXPECT_TRUE(std::signbit(fp16_to_fp32(0x8000)));
}

TEST(GgufDequant, Q8_0AndQ4_0ByHand) {
  // Q8_0: d = 0.5, q = 0..31 -> q/2.
  uint8_t q8[34];
  q8[0] = 0x00, q8[1] = 0x38;  // fp16 0.5
  for (int j = 0; j < 32; ++j) q8[2 + j] = static_cast<uint8_t>(j - 16);
  float out[32];
  dequantize_row(ggml::Q8_0, q8, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * static_cast<float>(j - 16));
  // Q4_0: d = 2, byte j holds value j (low nibble) and value j+16 (high nibble), x = d*(q-8).
  uint8_t q4[18];
  q4[0] = 0x00, q4[1] = 0x40;  // fp16 2.0
  for (int j = 0; j < 16; ++j) q4[2 + j] = static_cast<uint8_t>((j & 0x0F) | ((15 - j) << 4));
  dequantize_row(ggml::Q4_0, q4, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 2.0f * static_cast<float>(j - 8));
    EXPECT_EQ(out[16 + j], 2.0f * static_cast<float>(15 - j - 8));
  }
}

}  // namespace
}  // namespace finch::gguf
