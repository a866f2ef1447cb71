// The safetensors header, parsed and validated before any tensor byte is
// trusted. Free of libtorch so the fuzz target can link it alone.
//
// File layout: u64 little-endian N | N bytes of JSON | data area.
// The JSON maps each tensor name to {dtype, shape, data_offsets: [begin, end]}
// (offsets relative to the data area) and may hold "__metadata__": {str: str}.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace finch::safetensors {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_E4M3, F8_E5M2 };

std::optional<DType> dtype_from_name(std::string_view name);
std::string_view dtype_name(DType dtype);
uint64_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data area
  uint64_t end = 0;
};

struct Header {
  std::vector<TensorInfo> tensors;  // in data-offset order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // file offset of the data area
};

// The header may not exceed this many bytes (the Python library's limit).
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Parses and validates the header of a file of `file_size` bytes starting at
// `bytes`. Throws finch::Error "<file_name>: <fault>" on any fault: header
// length past the file or the cap, malformed JSON, unknown dtype, bad shape,
// offsets outside the data area, overlaps or gaps, byte length != shape x dtype size.
Header parse_header(std::string_view file_name, const uint8_t* bytes, uint64_t file_size);

// The serialised header (length prefix included, padded to 8 bytes) for
// tensors laid out back to back in the given order. Fills begin/end.
std::string build_header(std::vector<TensorInfo>& tensors,
                         const std::map<std::string, std::string>& metadata);

}  // namespace finch::safetensors
