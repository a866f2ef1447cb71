// The configuration system: typed, layered, strict.
//
// Settings live in plain structs with their defaults; each struct describes
// its fields once (`describe(config::Section&)`), which binds them into a
// Registry. The Registry then layers values on top of the defaults: a YAML
// file (sections as maps: `data: {dataset_name: ...}`), then `--section.key`
// flags and the seed tools' flat aliases, in command-line order. Unknown
// keys and values of the wrong type are one-line errors naming the key. Each
// setting remembers where its value came from; the resolved configuration is
// printed and saved with that provenance, and the docs are generated from the
// same descriptions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

namespace finch::config {

class Setting {
 public:
  std::string key;   // "section.name"
  std::string type;  // for docs and errors: "string", "integer", "number", ...
  std::string help;
  std::vector<std::string> aliases;  // flat flag names, without dashes
  bool unescape_flags = false;       // `\n`, `\t`, `\\` in a flag value are escapes
  std::string default_text;          // the struct's default, as YAML
  std::string source = "default";    // "default", a YAML file, or the flag used

  Setting& alias(std::string name) {
    aliases.push_back(std::move(name));
    return *this;
  }
  // For text settings (templates) typed on a shell command line, where `\n`
  // cannot be written otherwise. YAML has its own escapes and is left alone.
  Setting& unescaped() {
    unescape_flags = true;
    return *this;
  }

  // Set from a command-line value or a YAML node; `where` prefixes errors.
  std::function<void(const std::string& text, const std::string& where)> parse_text;
  std::function<void(const YAML::Node& node, const std::string& where)> parse_yaml;
  // The current value as one line of YAML.
  std::function<std::string()> render;
};

class Registry;

// Binds one struct's fields under a section name.
class Section {
 public:
  Section(Registry& registry, std::string name) : registry_(registry), name_(std::move(name)) {}

  Setting& add(const std::string& name, std::string& field, std::string help);
  Setting& add(const std::string& name, bool& field, std::string help);
  Setting& add(const std::string& name, int64_t& field, std::string help);
  Setting& add(const std::string& name, double& field, std::string help);
  Setting& add(const std::string& name, std::vector<std::string>& field, std::string help);
  Setting& add(const std::string& name, std::map<std::string, std::string>& field, std::string help);

 private:
  Setting& make(const std::string& name, std::string type, std::string help);
  Registry& registry_;
  std::string name_;
};

class Registry {
 public:
  // Starts a section; the struct then calls section.add(...) for each field.
  Section section(const std::string& name, std::string help);

  // Layers a YAML file over the current values. Every key must be known.
  void load_yaml_file(const std::filesystem::path& path);
  // One flag: `name` is "section.key" or an alias, `flag` how the user wrote it.
  void set_from_flag(const std::string& name, const std::string& text, const std::string& flag);

  Setting* find(const std::string& key_or_alias);
  const std::vector<std::unique_ptr<Setting>>& settings() const { return settings_; }

  // The resolved values as a YAML document, each line commented with its source.
  std::string to_yaml() const;
  // An aligned table of key, value and source for the start of a run.
  std::string table() const;
  // The reference: one section per struct, each key with type, default, aliases, help.
  std::string markdown() const;

 private:
  friend class Section;
  struct SectionInfo {
    std::string name, help;
  };
  std::vector<SectionInfo> sections_;
  std::vector<std::unique_ptr<Setting>> settings_;
};

// `\n`, `\t`, `\r`, `\\`, `\"` and `\'` as in a Python string literal; any
// other backslash is kept as written.
std::string unescape(const std::string& text);

}  // namespace finch::config
