#include "finch/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <set>

#include "finch/core/error.h"
#include "finch/io/json_config.h"

namespace finch::safetensors {
namespace fs = std::filesystem;

at::ScalarType to_torch(DType dtype) {
  switch (dtype) {
    case DType::F64: return at::kDouble;
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I16: return at::kShort;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::BOOL: return at::kBool;
    case DType::F8_E4M3: return at::kFloat8_e4m3fn;
    case DType::F8_E5M2: return at::kFloat8_e5m2;
  }
  FINCH_CHECK(false, "unhandled dtype");
}

DType from_torch(at::ScalarType dtype) {
  for (DType d : {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64, DType::I32, DType::I16,
                  DType::I8, DType::U8, DType::BOOL, DType::F8_E4M3, DType::F8_E5M2})
    if (to_torch(d) == dtype) return d;
  fail("dtype {} cannot be stored in safetensors", c10::toString(dtype));
}

File::File(const fs::path& path) : mapping_(MappedFile::open(path)) {
  header_ = parse_header(path.string(), mapping_->data(), mapping_->size());
  for (size_t i = 0; i < header_.tensors.size(); ++i) index_[header_.tensors[i].name] = i;
}

std::vector<std::string> File::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : index_) out.push_back(name);
  return out;
}

const TensorInfo& File::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail("{}: no tensor named '{}'", path().string(), name);
  return header_.tensors[it->second];
}

at::Tensor File::get(const std::string& name) const {
  const TensorInfo& t = info(name);
  uint8_t* ptr = mapping_->data() + header_.data_start + t.begin;
  const auto options = at::TensorOptions().dtype(to_torch(t.dtype));
  if (t.begin == t.end) return at::empty(t.shape, options);
  auto keep_alive = mapping_;
  at::Tensor view = at::from_blob(ptr, t.shape, [keep_alive](void*) {}, options);
  if (reinterpret_cast<uintptr_t>(ptr) % dtype_size(t.dtype) != 0) return view.clone();
  return view;
}

TensorStore TensorStore::open_file(const fs::path& path) {
  TensorStore store;
  store.files_.push_back(std::make_unique<File>(path));
  for (const auto& name : store.files_.back()->names()) store.where_[name] = store.files_.back().get();
  return store;
}

TensorStore TensorStore::open_model_dir(const fs::path& dir) {
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) return open_file(single);
  if (!fs::exists(index))
    fail("{}: no model.safetensors or model.safetensors.index.json (finch reads safetensors weights only)",
         dir.string());
  const nlohmann::json json = read_json_file(index);
  if (!json.is_object() || !json.contains("weight_map") || !json["weight_map"].is_object())
    fail("{}: expected an object with a 'weight_map' object", index.string());
  TensorStore store;
  std::map<std::string, const File*> by_shard;
  for (const auto& [name, shard] : json["weight_map"].items()) {
    if (!shard.is_string()) fail("{}: weight_map['{}'] is not a file name", index.string(), name);
    const std::string shard_name = shard.get<std::string>();
    if (shard_name.find('/') != std::string::npos || shard_name == "..")
      fail("{}: weight_map['{}'] names '{}', which is not a file in this directory", index.string(), name, shard_name);
    auto it = by_shard.find(shard_name);
    if (it == by_shard.end()) {
      store.files_.push_back(std::make_unique<File>(dir / shard_name));
      it = by_shard.emplace(shard_name, store.files_.back().get()).first;
    }
    if (!it->second->contains(name))
      fail("{}: weight_map puts '{}' in {}, which does not hold it", index.string(), name, shard_name);
    store.where_[name] = it->second;
  }
  return store;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : where_) out.push_back(name);
  return out;
}

at::Tensor TensorStore::get(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail("no tensor named '{}'", name);
  return it->second->get(name);
}

const TensorInfo& TensorStore::info(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) fail("no tensor named '{}'", name);
  return it->second->info(name);
}

namespace {

uint64_t byte_size(const at::Tensor& t) { return static_cast<uint64_t>(t.numel()) * t.element_size(); }

// Widest dtype first keeps every tensor aligned to its element size.
NamedTensors aligned_order(const NamedTensors& tensors) {
  NamedTensors sorted = tensors;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second.element_size() != b.second.element_size()) return a.second.element_size() > b.second.element_size();
    return a.first < b.first;
  });
  return sorted;
}

}  // namespace

void save_file(const fs::path& path, const NamedTensors& tensors, const std::map<std::string, std::string>& metadata) {
  NamedTensors sorted = aligned_order(tensors);
  std::vector<TensorInfo> infos;
  for (size_t i = 0; i < sorted.size(); ++i) {
    FINCH_CHECK(sorted[i].first != "__metadata__", "{}: a tensor may not be named __metadata__", path.string());
    FINCH_CHECK(i == 0 || sorted[i].first != sorted[i - 1].first, "{}: tensor '{}' given twice", path.string(),
                sorted[i].first);
  }
  // transformers refuses a file whose metadata lacks "format"; save_pretrained writes "pt".
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");
  for (const auto& [name, t] : sorted) {
    TensorInfo info;
    info.name = name;
    info.dtype = from_torch(t.scalar_type());
    info.shape = t.sizes().vec();
    infos.push_back(std::move(info));
  }
  AtomicFile file(path);
  file.write(build_header(infos, meta));
  for (const auto& [name, t] : sorted) {
    at::Tensor cpu = t.detach().to(at::kCPU).contiguous();
    file.write(cpu.data_ptr(), byte_size(cpu));
  }
  file.commit();
}

uint64_t parse_size(std::string_view text_in, std::string_view what) {
  std::string text(text_in);
  auto bad = [&]() { fail("{}: expected a size such as 5GB, 500MB or a byte count, got '{}'", what, text); };
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
  double multiplier = 1;
  std::string number = text;
  if (text.size() > 2 && std::isalpha(static_cast<unsigned char>(text.back()))) {
    std::string unit = text.substr(text.size() - 2);
    for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const std::map<std::string, double> units = {{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}};
    auto it = units.find(unit);
    if (it == units.end()) bad();
    multiplier = it->second;
    number = text.substr(0, text.size() - 2);
    while (!number.empty() && std::isspace(static_cast<unsigned char>(number.back()))) number.pop_back();
  }
  if (number.empty()) bad();
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
    bad();
  }
  if (used != number.size() || !(value > 0) || value * multiplier >= 1.8e19) bad();
  // int(value * multiplier), as huggingface_hub computes it.
  const auto bytes = static_cast<uint64_t>(value * multiplier);
  if (bytes == 0) bad();
  return bytes;
}

std::vector<std::vector<size_t>> plan_shards(const std::vector<uint64_t>& tensor_bytes, uint64_t max_shard_bytes) {
  std::vector<std::vector<size_t>> shards;
  std::vector<size_t> current;
  uint64_t current_bytes = 0;
  for (size_t i = 0; i < tensor_bytes.size(); ++i) {
    const uint64_t n = tensor_bytes[i];
    if (n > max_shard_bytes) {
      shards.push_back({i});
      continue;
    }
    if (current_bytes + n > max_shard_bytes) {
      shards.push_back(std::move(current));
      current = {};
      current_bytes = 0;
    }
    current.push_back(i);
    current_bytes += n;
  }
  if (!current.empty() || shards.empty()) shards.push_back(std::move(current));
  return shards;
}

std::vector<std::string> save_model_dir(const fs::path& dir, const NamedTensors& tensors, uint64_t max_shard_bytes,
                                        const std::map<std::string, std::string>& metadata) {
  fs::create_directories(dir);
  std::vector<uint64_t> sizes;
  uint64_t total = 0, parameters = 0;
  for (const auto& entry : tensors) {
    sizes.push_back(byte_size(entry.second));
    total += sizes.back();
    parameters += static_cast<uint64_t>(entry.second.numel());
  }
  const auto plan = plan_shards(sizes, max_shard_bytes);
  std::vector<std::string> written;
  if (plan.size() == 1) {
    save_file(dir / "model.safetensors", tensors, metadata);
    written.push_back("model.safetensors");
  } else {
    nlohmann::json weight_map = nlohmann::json::object();  // sorted keys, as transformers writes it
    for (size_t k = 0; k < plan.size(); ++k) {
      const std::string name = fmt::format("model-{:05d}-of-{:05d}.safetensors", k + 1, plan.size());
      NamedTensors shard;
      for (size_t i : plan[k]) {
        shard.push_back(tensors[i]);
        weight_map[tensors[i].first] = name;
      }
      save_file(dir / name, shard, metadata);
      written.push_back(name);
    }
    nlohmann::json index = {{"metadata", {{"total_parameters", parameters}, {"total_size", total}}},
                            {"weight_map", weight_map}};
    write_file_atomic(dir / "model.safetensors.index.json", index.dump(2) + "\n");
    written.push_back("model.safetensors.index.json");
  }
  // Weights of an earlier save into this directory would shadow or mix with
  // these (readers take model.safetensors before an index): remove them.
  const std::set<std::string> kept(written.begin(), written.end());
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool weights = name == "model.safetensors" || name == "model.safetensors.index.json" ||
                         (name.starts_with("model-") && name.ends_with(".safetensors"));
    if (weights && !kept.count(name)) fs::remove(entry.path());
  }
  return written;
}

std::vector<at::Tensor> match_tensors(const TensorStore& store, const NamedTensors& wanted,
                                      const std::function<bool(const std::string&)>& ignore,
                                      const std::string& what) {
  auto list = [](const std::vector<std::string>& items) {
    constexpr size_t kShown = 8;
    std::string out;
    for (size_t i = 0; i < items.size() && i < kShown; ++i) out += (i ? ", " : "") + items[i];
    if (items.size() > kShown) out += fmt::format(" and {} more", items.size() - kShown);
    return out;
  };
  auto shape = [](at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ", ")); };
  std::vector<std::string> missing, misshaped, unexpected;
  std::set<std::string> used;
  std::vector<at::Tensor> out;
  for (const auto& [name, tensor] : wanted) {
    if (!store.contains(name)) {
      missing.push_back(name);
      continue;
    }
    used.insert(name);
    const auto& info = store.info(name);
    if (at::IntArrayRef(info.shape) != tensor.sizes()) {
      misshaped.push_back(fmt::format("{} is {} (expected {})", name, shape(info.shape), shape(tensor.sizes())));
      continue;
    }
    out.push_back(store.get(name));
  }
  for (const auto& name : store.names())
    if (!used.count(name) && !(ignore && ignore(name))) unexpected.push_back(name);
  std::string faults;
  if (!missing.empty()) faults += fmt::format("; missing {}: {}", missing.size(), list(missing));
  if (!unexpected.empty()) faults += fmt::format("; unexpected {}: {}", unexpected.size(), list(unexpected));
  if (!misshaped.empty()) faults += fmt::format("; mis-shaped {}: {}", misshaped.size(), list(misshaped));
  if (!faults.empty()) fail("{} do not match the model{}", what, faults);
  return out;
}

}  // namespace finch::safetensors
