#include "finch/io/gguf.h"

#include <fmt/ranges.h>

#include <array>
#include <cstring>
#include <limits>

#include "finch/core/error.h"

namespace finch::gguf {
namespace {

constexpr std::array<GgmlType, 34> kGgmlTypes = {{
    {0, "F32", 1, 4},        {1, "F16", 1, 2},          {2, "Q4_0", 32, 18},       {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},       {8, "Q8_0", 32, 34},       {9, "Q8_1", 32, 40},
    {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},    {12, "Q4_K", 256, 144},    {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},    {16, "IQ2_XXS", 256, 66},  {17, "IQ2_XS", 256, 74},
    {18, "IQ3_XXS", 256, 98}, {19, "IQ1_S", 256, 50},   {20, "IQ4_NL", 32, 18},    {21, "IQ3_S", 256, 110},
    {22, "IQ2_S", 256, 82},  {23, "IQ4_XS", 256, 136},  {24, "I8", 1, 1},          {25, "I16", 1, 2},
    {26, "I32", 1, 4},       {27, "I64", 1, 8},         {28, "F64", 1, 8},         {29, "IQ1_M", 256, 56},
    {30, "BF16", 1, 2},      {34, "TQ1_0", 256, 54},    {35, "TQ2_0", 256, 66},    {39, "MXFP4", 32, 17},
    {40, "NVFP4", 64, 36},     {41, "Q1_0", 128, 18},
}};

constexpr uint64_t kMaxDims = 4;       // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;      // arrays of arrays nest at most this deep
constexpr uint64_t kMaxNameBytes = 1 << 16;

// Reads little-endian fields from [begin, end); every read is bounds-checked.
class Cursor {
 public:
  Cursor(const std::string& file, const uint8_t* data, uint64_t size) : file_(file), data_(data), size_(size) {}

  template <typename... Args>
  [[noreturn]] void fail_at(fmt::format_string<Args...> format, Args&&... args) const {
    throw Error(fmt::format("{}: not a valid GGUF file: {}", file_,
                            fmt::format(format, std::forward<Args>(args)...)));
  }

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  const uint8_t* take(uint64_t n, std::string_view what) {
    if (n > remaining())
      fail_at("{} at byte {} needs {} bytes but the file ends {} bytes later", what, pos_, n, remaining());
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  template <typename T>
  T read(std::string_view what) {
    const uint8_t* p = take(sizeof(T), what);
    T v;
    std::memcpy(&v, p, sizeof(T));  // hosts are little-endian, like the format
    return v;
  }
  std::string read_string(std::string_view what) {
    const uint64_t n = read<uint64_t>(what);
    if (n > remaining())
      fail_at("{} at byte {} has length {} but only {} bytes remain", what, pos_ - 8, n, remaining());
    const uint8_t* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }

 private:
  std::string file_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

// The fewest bytes one value of the type can occupy (to bound array counts).
uint64_t min_value_bytes(ValueType type) {
  switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: case ValueType::STRING: return 8;
    case ValueType::ARRAY: return 12;
  }
  return 1;
}

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

Value read_value(Cursor& c, ValueType type, const std::string& key, int depth) {
  Value v;
  v.type = type;
  switch (type) {
    case ValueType::U8: v.u = c.read<uint8_t>(key); break;
    case ValueType::I8: v.i = c.read<int8_t>(key); break;
    case ValueType::U16: v.u = c.read<uint16_t>(key); break;
    case ValueType::I16: v.i = c.read<int16_t>(key); break;
    case ValueType::U32: v.u = c.read<uint32_t>(key); break;
    case ValueType::I32: v.i = c.read<int32_t>(key); break;
    case ValueType::U64: v.u = c.read<uint64_t>(key); break;
    case ValueType::I64: v.i = c.read<int64_t>(key); break;
    case ValueType::F32: v.f = c.read<float>(key); break;
    case ValueType::F64: v.f = c.read<double>(key); break;
    case ValueType::BOOL: {
      const uint8_t b = c.read<uint8_t>(key);
      if (b > 1) c.fail_at("metadata '{}': bool byte is {}, expected 0 or 1", key, b);
      v.u = b;
      break;
    }
    case ValueType::STRING: v.s = c.read_string("metadata '" + key + "' string"); break;
    case ValueType::ARRAY: {
      if (depth >= kMaxArrayDepth) c.fail_at("metadata '{}': arrays nest deeper than {}", key, kMaxArrayDepth);
      const uint32_t element = c.read<uint32_t>(key);
      if (!known_value_type(element)) c.fail_at("metadata '{}': unknown array element type {}", key, element);
      v.element_type = static_cast<ValueType>(element);
      const uint64_t count = c.read<uint64_t>(key);
      if (count > c.remaining() / min_value_bytes(v.element_type))
        c.fail_at("metadata '{}': array of {} {} values cannot fit in the {} bytes left", key, count,
                  value_type_name(v.element_type), c.remaining());
      v.items.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.items.push_back(read_value(c, v.element_type, key, depth + 1));
      break;
    }
  }
  return v;
}

std::string describe(const Value& v) {
  if (v.type == ValueType::ARRAY) return fmt::format("an array of {}", value_type_name(v.element_type));
  return std::string(value_type_name(v.type));
}

int64_t to_int(const Value& v, const std::string& where) {
  if (v.type == ValueType::U8 || v.type == ValueType::U16 || v.type == ValueType::U32 || v.type == ValueType::U64) {
    if (v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) fail("{}: {} is out of range", where, v.u);
    return static_cast<int64_t>(v.u);
  }
  if (v.type == ValueType::I8 || v.type == ValueType::I16 || v.type == ValueType::I32 || v.type == ValueType::I64)
    return v.i;
  fail("{} is {}, expected an integer", where, describe(v));
}

double to_float(const Value& v, const std::string& where) {
  if (v.is_float()) return v.f;
  if (v.is_integer()) return static_cast<double>(to_int(v, where));
  fail("{} is {}, expected a number", where, describe(v));
}

}  // namespace

std::string_view value_type_name(ValueType type) {
  static constexpr std::array<std::string_view, 13> names = {"uint8", "int8",   "uint16", "int16", "uint32",
                                                             "int32", "float32", "bool",  "string", "array",
                                                             "uint64", "int64", "float64"};
  const auto index = static_cast<uint32_t>(type);
  return index < names.size() ? names[index] : "unknown";
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16: case ValueType::U32:
    case ValueType::I32: case ValueType::U64: case ValueType::I64: return true;
    default: return false;
  }
}

const GgmlType* find_ggml_type(uint32_t id) {
  for (const auto& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

std::string ggml_type_name(uint32_t id) {
  const GgmlType* t = find_ggml_type(id);
  return t ? std::string(t->name) : fmt::format("type {}", id);
}

std::vector<int64_t> TensorInfo::torch_shape() const {
  return std::vector<int64_t>(dims.rbegin(), dims.rend());
}

File::File(const std::filesystem::path& path)
    : mapping_(MappedFile::open(path)), path_(path), data_(mapping_->data()), size_(mapping_->size()) {
  parse();
}

File::File(const std::string& name, const uint8_t* data, uint64_t size) : path_(name), data_(data), size_(size) {
  parse();
}

void File::parse() {
  Cursor c(path_.string(), data_, size_);
  if (size_ < 4 || std::memcmp(data_, "GGUF", 4) != 0)
    c.fail_at("the file does not start with the magic 'GGUF'");
  c.take(4, "magic");
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3) {
    const uint32_t swapped = __builtin_bswap32(version_);
    if (swapped == 2 || swapped == 3) c.fail_at("big-endian GGUF (version {}) is not supported", swapped);
    c.fail_at("version {} is not supported (supported: 2, 3)", version_);
  }
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_metadata = c.read<uint64_t>("metadata count");
  // A metadata entry takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8 + 4 + 8 + 4 + 8.
  if (n_metadata > c.remaining() / 13)
    c.fail_at("metadata count {} cannot fit in the {}-byte file", n_metadata, size_);
  for (uint64_t k = 0; k < n_metadata; ++k) {
    std::string key = c.read_string("metadata key");
    const uint32_t type = c.read<uint32_t>("metadata type");
    if (!known_value_type(type)) c.fail_at("metadata '{}' has unknown value type {}", key, type);
    Value value = read_value(c, static_cast<ValueType>(type), key, 0);
    if (metadata_index_.count(key)) c.fail_at("metadata key '{}' appears twice", key);
    metadata_index_[key] = metadata_.size();
    metadata_.emplace_back(std::move(key), std::move(value));
  }
  if (const Value* a = find("general.alignment")) {
    if (a->type != ValueType::U32) c.fail_at("general.alignment is {}, expected uint32", describe(*a));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0) c.fail_at("general.alignment {} is not a power of two", a->u);
    alignment_ = a->u;
  }

  if (n_tensors > c.remaining() / 32)
    c.fail_at("tensor count {} cannot fit in the {}-byte file", n_tensors, size_);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    const uint64_t name_length = c.read<uint64_t>("tensor name");
    if (name_length > kMaxNameBytes) c.fail_at("tensor {} has a name of {} bytes", k, name_length);
    t.name = std::string(reinterpret_cast<const char*>(c.take(name_length, "tensor name")), name_length);
    const uint32_t n_dims = c.read<uint32_t>("tensor dims");
    if (n_dims == 0 || n_dims > kMaxDims)
      c.fail_at("tensor '{}' has {} dimensions (expected 1 to {})", t.name, n_dims, kMaxDims);
    t.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = c.read<uint64_t>("tensor dim");
      if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          t.n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / dim)
        c.fail_at("tensor '{}' has a bad dimension {} (zero, or the element count overflows)", t.name, dim);
      t.dims.push_back(dim);
      t.n_elements *= dim;
    }
    t.type = c.read<uint32_t>("tensor type");
    const GgmlType* type = find_ggml_type(t.type);
    if (!type) c.fail_at("tensor '{}' has unknown ggml type {}", t.name, t.type);
    if (t.dims[0] % type->block_size != 0)
      c.fail_at("tensor '{}': row length {} is not a multiple of the {} block size {}", t.name, t.dims[0],
                type->name, type->block_size);
    const uint64_t blocks = t.n_elements / type->block_size;
    if (blocks > std::numeric_limits<uint64_t>::max() / type->type_size) c.fail_at("tensor '{}' is too large", t.name);
    t.n_bytes = blocks * type->type_size;
    t.offset = c.read<uint64_t>("tensor offset");
    if (t.offset % alignment_ != 0)
      c.fail_at("tensor '{}' offset {} is not a multiple of the alignment {}", t.name, t.offset, alignment_);
    if (tensor_index_.count(t.name)) c.fail_at("tensor '{}' appears twice", t.name);
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  const uint64_t header_end = c.pos();
  data_offset_ = header_end + (alignment_ - header_end % alignment_) % alignment_;
  if (tensors_.empty()) return;  // vocabulary-only files may end right after the header
  if (data_offset_ > size_)
    c.fail_at("the data area starts at byte {}, past the end of the {}-byte file", data_offset_, size_);
  const uint64_t data_size = size_ - data_offset_;
  for (const auto& t : tensors_)
    if (t.offset > data_size || t.n_bytes > data_size - t.offset)
      c.fail_at("tensor '{}' ({} {}, {} bytes at offset {}) runs past the {}-byte data area", t.name,
                ggml_type_name(t.type), fmt::join(t.dims, "x"), t.n_bytes, t.offset, data_size);
}

const Value* File::find(const std::string& key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const uint8_t* File::tensor_data(const TensorInfo& info) const {
  return data_ + data_offset_ + info.offset;
}

namespace {
const Value& require(const File& f, const std::string& key) {
  const Value* v = f.find(key);
  if (!v) fail("{}: metadata '{}' is missing", f.path().string(), key);
  return *v;
}
std::string where(const File& f, const std::string& key) {
  return fmt::format("{}: metadata '{}'", f.path().string(), key);
}
}  // namespace

std::string File::get_string(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::STRING) fail("{} is {}, expected a string", where(*this, key), describe(v));
  return v.s;
}

int64_t File::get_int(const std::string& key) const { return to_int(require(*this, key), where(*this, key)); }
double File::get_float(const std::string& key) const { return to_float(require(*this, key), where(*this, key)); }

bool File::get_bool(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::BOOL) fail("{} is {}, expected a bool", where(*this, key), describe(v));
  return v.u != 0;
}

std::vector<std::string> File::get_strings(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::ARRAY || v.element_type != ValueType::STRING)
    fail("{} is {}, expected an array of string", where(*this, key), describe(v));
  std::vector<std::string> out;
  out.reserve(v.items.size());
  for (const auto& item : v.items) out.push_back(item.s);
  return out;
}

std::vector<double> File::get_floats(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::ARRAY) fail("{} is {}, expected an array of numbers", where(*this, key), describe(v));
  std::vector<double> out;
  out.reserve(v.items.size());
  for (const auto& item : v.items) out.push_back(to_float(item, where(*this, key) + " element"));
  return out;
}

std::vector<int64_t> File::get_ints(const std::string& key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::ARRAY) fail("{} is {}, expected an array of integers", where(*this, key), describe(v));
  std::vector<int64_t> out;
  out.reserve(v.items.size());
  for (const auto& item : v.items) out.push_back(to_int(item, where(*this, key) + " element"));
  return out;
}

std::optional<std::string> File::get_string_or(const std::string& key) const {
  return has(key) ? std::optional<std::string>(get_string(key)) : std::nullopt;
}
std::optional<int64_t> File::get_int_or(const std::string& key) const {
  return has(key) ? std::optional<int64_t>(get_int(key)) : std::nullopt;
}
std::optional<bool> File::get_bool_or(const std::string& key) const {
  return has(key) ? std::optional<bool>(get_bool(key)) : std::nullopt;
}

}  // namespace finch::gguf
