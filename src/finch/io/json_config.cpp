#include "finch/io/json_config.h"

#include "finch/core/error.h"
#include "finch/core/files.h"

namespace finch {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) fail("{}: file not found", path.string());
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON ({})", path.string(), e.what());
  }
}

JsonConfig JsonConfig::load(const std::filesystem::path& path) {
  nlohmann::json json = read_json_file(path);
  if (!json.is_object()) fail("{}: expected a JSON object at the top level", path.string());
  return JsonConfig(path.string(), std::move(json));
}

JsonConfig::JsonConfig(std::string source, nlohmann::json json, std::string prefix)
    : source_(std::move(source)), json_(std::move(json)), prefix_(std::move(prefix)) {}

std::string JsonConfig::where(const std::string& key) const {
  return fmt::format("{}: key '{}{}'", source_, prefix_, key);
}

const nlohmann::json* JsonConfig::find(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonConfig::has(const std::string& key) const { return find(key) != nullptr; }

void JsonConfig::wrong_type(const std::string& key, const char* expected) const {
  fail("{}: expected {}, got {}", where(key), expected, find(key)->dump());
}

// One scalar read: the fallback when absent, else the value if `is_type` holds.
template <typename T>
T JsonConfig::get_scalar(const std::string& key, const std::optional<T>& fallback, const char* expected,
                         bool (nlohmann::json::*is_type)() const noexcept) const {
  const auto* v = find(key);
  if (v == nullptr) {
    if (!fallback) fail("{}: required, expected {}", where(key), expected);
    return *fallback;
  }
  if (!(v->*is_type)()) wrong_type(key, expected);
  return v->get<T>();
}

int64_t JsonConfig::get_int(const std::string& key, std::optional<int64_t> fallback) const {
  return get_scalar(key, fallback, "an integer", &nlohmann::json::is_number_integer);
}

double JsonConfig::get_float(const std::string& key, std::optional<double> fallback) const {
  return get_scalar(key, fallback, "a number", &nlohmann::json::is_number);
}

bool JsonConfig::get_bool(const std::string& key, std::optional<bool> fallback) const {
  return get_scalar(key, fallback, "true or false", &nlohmann::json::is_boolean);
}

std::string JsonConfig::get_string(const std::string& key, std::optional<std::string> fallback) const {
  return get_scalar(key, fallback, "a string", &nlohmann::json::is_string);
}

std::vector<std::string> JsonConfig::get_strings(const std::string& key) const {
  const auto* v = find(key);
  if (v == nullptr) return {};
  if (!v->is_array()) wrong_type(key, "a list of strings");
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) wrong_type(key, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<JsonConfig> JsonConfig::get_object(const std::string& key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) wrong_type(key, "an object");
  return JsonConfig(source_, *v, prefix_ + key + ".");
}

}  // namespace finch
