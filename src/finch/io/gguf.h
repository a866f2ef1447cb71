// GGUF files (llama.cpp's single-file model format), versions 2 and 3,
// little-endian, read through a private memory mapping.
//
// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count,
// the metadata (key string, u32 value type, value), the tensor infos (name,
// u32 n_dims, u64 dims[n_dims] with dims[0] the fastest-varying, u32 ggml
// type, u64 offset into the data area), padding to `general.alignment`
// (default 32), then the data area. Every count, length, offset and size is
// checked against the file before a byte it points at is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finch/core/files.h"

namespace finch::gguf {

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType type);

// One metadata value. Integers keep their sign in the type; arrays hold
// values of one element type (arrays of arrays are allowed).
struct Value {
  ValueType type = ValueType::U8;
  uint64_t u = 0;  // unsigned integers, bool
  int64_t i = 0;   // signed integers
  double f = 0;    // F32 (exactly widened), F64
  std::string s;
  ValueType element_type = ValueType::U8;  // arrays
  std::vector<Value> items;

  bool is_integer() const;
  bool is_float() const { return type == ValueType::F32 || type == ValueType::F64; }
};

// ggml tensor types: the ids of ggml.h, with block size (elements) and
// block bytes. Unknown ids are rejected by the reader.
struct GgmlType {
  uint32_t id;
  std::string_view name;
  uint64_t block_size;
  uint64_t type_size;
};
const GgmlType* find_ggml_type(uint32_t id);
std::string ggml_type_name(uint32_t id);  // "Q4_K", or "type 99" for an unknown id

namespace ggml {
constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q4_K = 12, Q5_K = 13,
                   Q6_K = 14, BF16 = 30;
}

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] varies fastest
  uint32_t type = 0;
  uint64_t offset = 0;  // from the start of the data area
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  // The shape in PyTorch order (dims reversed), as gguf-py and transformers see it.
  std::vector<int64_t> torch_shape() const;
};

class File {
 public:
  explicit File(const std::filesystem::path& path);
  // Parses bytes held elsewhere (tests, fuzzing); they must outlive the File.
  // `name` stands for the file in error messages.
  File(const std::string& name, const uint8_t* data, uint64_t size);

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // Typed getters: an absent key or a value of another type is an error naming
  // the file and the key. Integers of any width and sign convert when in range.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // integers accepted
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_strings(const std::string& key) const;
  std::vector<double> get_floats(const std::string& key) const;
  std::vector<int64_t> get_ints(const std::string& key) const;
  std::optional<std::string> get_string_or(const std::string& key) const;
  std::optional<int64_t> get_int_or(const std::string& key) const;
  std::optional<bool> get_bool_or(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(const std::string& name) const;
  // The tensor's bytes inside the mapping (n_bytes long).
  const uint8_t* tensor_data(const TensorInfo& info) const;

 private:
  void parse();

  std::shared_ptr<MappedFile> mapping_;  // null when the bytes are held elsewhere
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::map<std::string, size_t> metadata_index_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

}  // namespace finch::gguf
