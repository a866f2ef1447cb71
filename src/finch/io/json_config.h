// Typed, strict reads from a JSON configuration file (config.json and
// friends): a wrong type is an error naming the file, the key and what was
// expected; a missing key takes the caller's default.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace finch {

// Parses a JSON file; a missing or malformed file is one line naming it.
nlohmann::json read_json_file(const std::filesystem::path& path);

class JsonConfig {
 public:
  static JsonConfig load(const std::filesystem::path& path);
  JsonConfig(std::string source, nlohmann::json json, std::string prefix = "");

  // True when the key is present and not null.
  bool has(const std::string& key) const;
  // True when the key is present, even as null.
  bool contains(const std::string& key) const { return json_.contains(key); }
  int64_t get_int(const std::string& key, std::optional<int64_t> fallback = std::nullopt) const;
  double get_float(const std::string& key, std::optional<double> fallback = std::nullopt) const;
  bool get_bool(const std::string& key, std::optional<bool> fallback = std::nullopt) const;
  std::string get_string(const std::string& key, std::optional<std::string> fallback = std::nullopt) const;
  std::vector<std::string> get_strings(const std::string& key) const;  // empty when absent
  std::optional<JsonConfig> get_object(const std::string& key) const;   // nullopt when absent or null

  const std::string& source() const { return source_; }
  // "file: key 'prefix.key'" for messages.
  std::string where(const std::string& key) const;

 private:
  const nlohmann::json* find(const std::string& key) const;
  [[noreturn]] void wrong_type(const std::string& key, const char* expected) const;
  template <typename T>
  T get_scalar(const std::string& key, const std::optional<T>& fallback, const char* expected,
               bool (nlohmann::json::*is_type)() const noexcept) const;

  std::string source_;
  nlohmann::json json_;
  std::string prefix_;
};

}  // namespace finch
