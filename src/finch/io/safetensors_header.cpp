#include "finch/io/safetensors_header.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstring>

#include "finch/core/error.h"

namespace finch::safetensors {
namespace {

struct DTypeRow {
  DType dtype;
  std::string_view name;
  uint64_t size;
};

constexpr std::array<DTypeRow, 12> kDTypes = {{
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1}, {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1}, {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
}};

const DTypeRow& row(DType dtype) {
  for (const auto& r : kDTypes)
    if (r.dtype == dtype) return r;
  FINCH_CHECK(false, "unknown dtype {}", static_cast<int>(dtype));
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& r : kDTypes)
    if (r.name == name) return r.dtype;
  return std::nullopt;
}

std::string_view dtype_name(DType dtype) { return row(dtype).name; }
uint64_t dtype_size(DType dtype) { return row(dtype).size; }

Header parse_header(std::string_view file_name, const uint8_t* bytes, uint64_t file_size) {
  auto bad = [&](const std::string& fault) -> Error {
    return Error(fmt::format("{}: not a valid safetensors file: {}", file_name, fault));
  };
  if (file_size < 8) throw bad(fmt::format("{} bytes, shorter than the 8-byte header length", file_size));
  const uint64_t n = read_u64_le(bytes);
  if (n > kMaxHeaderBytes) throw bad(fmt::format("header length {} exceeds the cap of {} bytes", n, kMaxHeaderBytes));
  if (n > file_size - 8) throw bad(fmt::format("header length {} runs past the end of the {}-byte file", n, file_size));

  nlohmann::json json;
  try {
    json = nlohmann::json::parse(bytes + 8, bytes + 8 + n);
  } catch (const nlohmann::json::exception& e) {
    throw bad(fmt::format("header is not valid JSON ({})", e.what()));
  }
  if (!json.is_object()) throw bad("header is not a JSON object");

  Header header;
  header.data_start = 8 + n;
  const uint64_t data_size = file_size - header.data_start;
  for (const auto& item : json.items()) {
    const std::string& name = item.key();
    const nlohmann::json& entry = item.value();
    if (name == "__metadata__") {
      if (entry.is_null()) continue;  // the Python library reads null as no metadata
      if (!entry.is_object()) throw bad("__metadata__ is not an object of strings");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) throw bad(fmt::format("__metadata__ value of '{}' is not a string", key));
        header.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    auto bad_tensor = [&](const std::string& fault) { return bad(fmt::format("tensor '{}': {}", name, fault)); };
    if (!entry.is_object()) throw bad_tensor("entry is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string()) throw bad_tensor("missing string 'dtype'");
    if (shape_it == entry.end() || !shape_it->is_array()) throw bad_tensor("missing list 'shape'");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2)
      throw bad_tensor("'data_offsets' is not a list [begin, end]");

    TensorInfo info;
    info.name = name;
    const auto dtype = dtype_from_name(dtype_it->get<std::string>());
    if (!dtype) throw bad_tensor(fmt::format("unknown dtype '{}'", dtype_it->get<std::string>()));
    info.dtype = *dtype;

    // Bytes = shape x dtype size, without overflow. The product of the non-zero
    // dimensions must fit a tensor even when a zero dimension makes it empty.
    uint64_t nonzero_elements = 1;
    bool empty = false;
    for (const auto& dim : *shape_it) {
      if (!dim.is_number_unsigned()) throw bad_tensor("shape holds a value that is not a non-negative integer");
      const uint64_t d = dim.get<uint64_t>();
      if (d > static_cast<uint64_t>(INT64_MAX) ||
          (d != 0 && nonzero_elements > static_cast<uint64_t>(INT64_MAX) / d))
        throw bad_tensor("shape overflows");
      if (d == 0) empty = true;
      else nonzero_elements *= d;
      info.shape.push_back(static_cast<int64_t>(d));
    }
    if (nonzero_elements > UINT64_MAX / dtype_size(info.dtype)) throw bad_tensor("shape overflows");
    const uint64_t expected = empty ? 0 : nonzero_elements * dtype_size(info.dtype);
    for (const auto& off : *offsets_it)
      if (!off.is_number_unsigned()) throw bad_tensor("data_offsets hold a value that is not a non-negative integer");
    info.begin = (*offsets_it)[0].get<uint64_t>();
    info.end = (*offsets_it)[1].get<uint64_t>();
    if (info.begin > info.end) throw bad_tensor(fmt::format("data_offsets [{}, {}] are reversed", info.begin, info.end));
    if (info.end > data_size)
      throw bad_tensor(fmt::format("data_offsets [{}, {}] run past the {}-byte data area", info.begin, info.end, data_size));
    if (info.end - info.begin != expected)
      throw bad_tensor(fmt::format("holds {} bytes but shape x dtype size is {}", info.end - info.begin, expected));
    header.tensors.push_back(std::move(info));
  }

  // Tensors must tile the data area exactly: no overlap, no gap, no tail.
  std::sort(header.tensors.begin(), header.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  for (const auto& t : header.tensors) {
    if (t.begin < cursor) throw bad(fmt::format("tensor '{}' overlaps the tensor before it", t.name));
    if (t.begin > cursor) throw bad(fmt::format("gap of {} bytes before tensor '{}'", t.begin - cursor, t.name));
    cursor = t.end;
  }
  if (cursor != data_size) throw bad(fmt::format("{} trailing bytes after the last tensor", data_size - cursor));
  return header;
}

std::string build_header(std::vector<TensorInfo>& tensors, const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  if (!metadata.empty()) json["__metadata__"] = metadata;
  uint64_t cursor = 0;
  for (auto& t : tensors) {
    uint64_t bytes = dtype_size(t.dtype);
    for (int64_t d : t.shape) bytes *= static_cast<uint64_t>(d);
    t.begin = cursor;
    t.end = cursor + bytes;
    cursor = t.end;
    json[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  }
  std::string text = json.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data area 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + text;
}

}  // namespace finch::safetensors
