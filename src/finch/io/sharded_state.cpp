#include "finch/io/sharded_state.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "finch/core/error.h"
#include "finch/core/files.h"

namespace fs = std::filesystem;

namespace finch::io::sharded {

namespace {

constexpr const char* kFormat = "finch-sharded-1";

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

// Files a consolidated folder leaves out: what only a sharded resume reads.
bool sharded_only(const std::string& name) {
  return name == kManifestFile || name == "MANIFEST.json" || name.find("_shard_") != std::string::npos ||
         name.rfind("rng_state", 0) == 0;
}

}  // namespace

int64_t chunk_numel(int64_t numel, int64_t world) { return (numel + world - 1) / world; }

std::string rank_file(const std::string& set, int64_t rank) { return fmt::format("{}_shard_{}.safetensors", set, rank); }

bool is_sharded(const fs::path& dir) { return fs::is_regular_file(dir / kManifestFile); }

void write_manifest(const fs::path& dir, const Manifest& manifest) {
  nlohmann::ordered_json tensors = nlohmann::ordered_json::object();
  for (const auto& [set, list] : manifest.tensors) {
    nlohmann::ordered_json entries = nlohmann::ordered_json::object();
    for (const auto& [name, shape] : list) entries[name] = shape;
    tensors[set] = std::move(entries);
  }
  const nlohmann::ordered_json j = {{"format", kFormat},
                                    {"world_size", manifest.world_size},
                                    {"weights_file", manifest.weights_file},
                                    {"tensors", std::move(tensors)}};
  write_file_atomic(dir / kManifestFile, j.dump(2) + "\n");
}

Reader::Reader(const fs::path& dir) : dir_(dir) {
  const fs::path path = dir / kManifestFile;
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not readable JSON: {}", path.string(), e.what());
  }
  if (!j.is_object() || j.value("format", "") != kFormat)
    fail("{}: \"format\" is not \"{}\"", path.string(), kFormat);
  if (!j.contains("world_size") || !j["world_size"].is_number_integer() || j["world_size"].get<int64_t>() < 1)
    fail("{}: \"world_size\" must be an integer >= 1", path.string());
  if (!j.contains("weights_file") || !j["weights_file"].is_string())
    fail("{}: \"weights_file\" must be a file name", path.string());
  if (!j.contains("tensors") || !j["tensors"].is_object()) fail("{}: \"tensors\" must be an object", path.string());
  manifest_.world_size = j["world_size"].get<int64_t>();
  manifest_.weights_file = j["weights_file"].get<std::string>();
  for (const auto& [set, entries] : j["tensors"].items()) {
    if (!entries.is_object()) fail("{}: tensors.{} must be an object", path.string(), set);
    auto& list = manifest_.tensors[set];
    for (const auto& [name, shape] : entries.items()) {
      bool ok = shape.is_array();
      for (const auto& d : shape) ok = ok && d.is_number_integer() && d.get<int64_t>() >= 0;
      if (!ok) fail("{}: tensors.{}.{}: expected a shape (a list of sizes)", path.string(), set, name);
      list.emplace_back(name, shape.get<std::vector<int64_t>>());
    }
  }
}

std::vector<std::string> Reader::names(const std::string& set) const {
  std::vector<std::string> out;
  if (const auto it = manifest_.tensors.find(set); it != manifest_.tensors.end())
    for (const auto& entry : it->second) out.push_back(entry.first);
  return out;
}

bool Reader::contains(const std::string& set, const std::string& name) const {
  const auto it = manifest_.tensors.find(set);
  if (it == manifest_.tensors.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(), [&](const auto& e) { return e.first == name; });
}

const std::vector<int64_t>& Reader::shape(const std::string& set, const std::string& name) const {
  if (const auto it = manifest_.tensors.find(set); it != manifest_.tensors.end())
    for (const auto& [n, s] : it->second)
      if (n == name) return s;
  fail("{}: no tensor {} in the {} set", (dir_ / kManifestFile).string(), name, set);
}

const safetensors::File& Reader::file(const std::string& set, int64_t rank) const {
  auto& slot = files_[{set, rank}];
  if (!slot) {
    const fs::path path = dir_ / rank_file(set, rank);
    if (!fs::is_regular_file(path))
      fail("{}: missing (the checkpoint's {} names {} ranks)", path.string(), kManifestFile, manifest_.world_size);
    slot = std::make_unique<safetensors::File>(path);
  }
  return *slot;
}

at::Tensor Reader::range(const std::string& set, const std::string& name, int64_t start, int64_t length) const {
  const int64_t saved = manifest_.world_size;
  const int64_t c = chunk_numel(numel_of(shape(set, name)), saved);
  std::vector<at::Tensor> pieces;
  for (int64_t r = start / c; length > 0; ++r) {
    const safetensors::File& f = file(set, r);
    if (!f.contains(name)) fail("{}: tensor {} is missing", f.path().string(), name);
    const at::Tensor part = f.get(name);
    if (part.dim() != 1 || part.numel() != c)
      fail("{}: tensor {} has {} elements, expected a chunk of {}", f.path().string(), name, part.numel(), c);
    const int64_t from = start - r * c, take = std::min(length, c - from);
    pieces.push_back(part.narrow(0, from, take));
    start += take;
    length -= take;
  }
  return pieces.size() == 1 ? pieces[0].clone() : at::cat(pieces);
}

at::Tensor Reader::full(const std::string& set, const std::string& name) const {
  const auto& s = shape(set, name);
  const int64_t m = numel_of(s);
  if (m == 0) return at::empty(s, file(set, 0).get(name).options());
  return range(set, name, 0, m).view(s);
}

at::Tensor Reader::chunk(const std::string& set, const std::string& name, int64_t rank, int64_t world) const {
  const int64_t m = numel_of(shape(set, name)), c = chunk_numel(m, world);
  const int64_t start = std::min(rank * c, m), length = std::min(c, m - start);
  if (length == c) return range(set, name, start, length);
  at::Tensor out = at::zeros({c}, file(set, 0).get(name).options());
  if (length > 0) out.narrow(0, 0, length).copy_(range(set, name, start, length));
  return out;
}

std::string Reader::metadata(const std::string& set, const std::string& key) const {
  const auto& m = file(set, 0).header().metadata;
  const auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

void consolidate(const fs::path& checkpoint, const fs::path& out) {
  const Reader reader(checkpoint);
  safetensors::NamedTensors weights;
  for (const auto& name : reader.names("weights")) weights.emplace_back(name, reader.full("weights", name));
  fs::create_directories(out);
  safetensors::save_file(out / reader.manifest().weights_file, weights, {{"format", "pt"}});
  for (const auto& entry : fs::directory_iterator(checkpoint)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && !sharded_only(name) && name != reader.manifest().weights_file)
      fs::copy_file(entry.path(), out / name, fs::copy_options::overwrite_existing);
  }
}

}  // namespace finch::io::sharded
