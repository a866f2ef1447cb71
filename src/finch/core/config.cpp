#include "finch/core/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "finch/core/error.h"

namespace finch::config {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool parse_bool(const std::string& text, const std::string& where) {
  const std::string t = lower(trim(text));
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  fail("{}: expected true or false, got '{}'", where, text);
}

int64_t parse_int(const std::string& text, const std::string& where) {
  const std::string t = trim(text);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size())
    fail("{}: expected an integer, got '{}'", where, text);
  return value;
}

double parse_number(const std::string& text, const std::string& where) {
  const std::string t = trim(text);
  char* end = nullptr;
  const double value = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(value))
    fail("{}: expected a number, got '{}'", where, text);
  return value;
}

// One-line YAML for a value, quoted only where YAML needs it.
template <typename T>
std::string emit(const T& value) {
  YAML::Emitter out;
  out << YAML::Flow << value;
  return out.c_str();
}

std::string emit_string(const std::string& value) {
  YAML::Emitter out;
  // Double quotes keep escapes (\n) visible on one line.
  if (value.find_first_of("\n\t\r\"\\") != std::string::npos || value.empty())
    out << YAML::DoubleQuoted;
  out << value;
  return out.c_str();
}

std::string emit_number(double value) {
  // Shortest text that reads back to the same double.
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string s(buf, end);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

const YAML::Node& scalar(const YAML::Node& node, const std::string& where, const char* expected) {
  if (!node.IsScalar())
    fail("{}: expected {}, got {}", where, expected,
         node.IsNull() ? "no value" : node.IsSequence() ? "a YAML list" : "a YAML map");
  return node;
}

// A setting held in one YAML scalar: a flag's text and a YAML scalar go
// through the same parser, so both accept and reject the same values.
template <typename T, typename Parse, typename Render>
void bind_scalar(Setting& s, T& field, const char* expected, Parse parse, Render render) {
  s.parse_text = [&field, parse](const std::string& text, const std::string& where) { field = parse(text, where); };
  s.parse_yaml = [&field, parse, expected](const YAML::Node& node, const std::string& where) {
    field = parse(scalar(node, where, expected).as<std::string>(), where);
  };
  s.render = [&field, render] { return render(field); };
  s.default_text = s.render();
}

}  // namespace

std::string unescape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char c = text[++i];
    switch (c) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      default: out += '\\'; out += c;
    }
  }
  return out;
}

Setting& Section::make(const std::string& name, std::string type, std::string help) {
  const std::string key = name_ + "." + name;
  FINCH_CHECK(registry_.find(key) == nullptr, "setting {} declared twice", key);
  auto setting = std::make_unique<Setting>();
  setting->key = key;
  setting->type = std::move(type);
  setting->help = std::move(help);
  registry_.settings_.push_back(std::move(setting));
  return *registry_.settings_.back();
}

Setting& Section::add(const std::string& name, std::string& field, std::string help) {
  Setting& s = make(name, "string", std::move(help));
  bind_scalar(s, field, "a string", [](const std::string& text, const std::string&) { return text; }, emit_string);
  return s;
}

Setting& Section::add(const std::string& name, bool& field, std::string help) {
  Setting& s = make(name, "boolean", std::move(help));
  bind_scalar(s, field, "true or false", parse_bool, [](bool v) { return std::string(v ? "true" : "false"); });
  return s;
}

Setting& Section::add(const std::string& name, int64_t& field, std::string help) {
  Setting& s = make(name, "integer", std::move(help));
  bind_scalar(s, field, "an integer", parse_int, [](int64_t v) { return std::to_string(v); });
  return s;
}

Setting& Section::add(const std::string& name, double& field, std::string help) {
  Setting& s = make(name, "number", std::move(help));
  bind_scalar(s, field, "a number", parse_number, emit_number);
  return s;
}

Setting& Section::add(const std::string& name, std::vector<std::string>& field, std::string help) {
  Setting& s = make(name, "list of strings", std::move(help));
  // On the command line: comma-separated, as the seed tools took them.
  s.parse_text = [&field](const std::string& text, const std::string&) {
    field.clear();
    size_t start = 0;
    while (start <= text.size()) {
      const size_t comma = std::min(text.find(',', start), text.size());
      const std::string item = trim(text.substr(start, comma - start));
      if (!item.empty()) field.push_back(item);
      start = comma + 1;
    }
  };
  s.parse_yaml = [&field, &s](const YAML::Node& node, const std::string& where) {
    if (node.IsScalar()) return s.parse_text(node.as<std::string>(), where);
    if (!node.IsSequence()) fail("{}: expected a list of strings, got a YAML map", where);
    field.clear();
    for (size_t i = 0; i < node.size(); ++i)
      field.push_back(scalar(node[i], fmt::format("{}[{}]", where, i), "a string").as<std::string>());
  };
  s.render = [&field] { return emit(field); };
  s.default_text = s.render();
  return s;
}

Setting& Section::add(const std::string& name, std::map<std::string, std::string>& field, std::string help) {
  Setting& s = make(name, "map of strings", std::move(help));
  auto from_yaml = [&field](const YAML::Node& node, const std::string& where) {
    if (!node.IsMap()) fail("{}: expected a map of strings ({{key: value, ...}})", where);
    field.clear();
    for (const auto& kv : node) {
      const std::string k = scalar(kv.first, where, "a string key").as<std::string>();
      field[k] = scalar(kv.second, where + "." + k, "a string").as<std::string>();
    }
  };
  // On the command line: `{a: b, c: d}` (YAML/JSON) or `a=b,c=d`.
  s.parse_text = [&field, from_yaml](const std::string& text, const std::string& where) {
    const std::string t = trim(text);
    if (t.empty()) return field.clear();
    if (t.front() == '{') {
      YAML::Node node;
      try {
        node = YAML::Load(t);
      } catch (const YAML::Exception& e) {
        fail("{}: expected a map such as {{a: b, c: d}} or a=b,c=d: {}", where, e.msg);
      }
      return from_yaml(node, where);
    }
    field.clear();
    size_t start = 0;
    while (start <= t.size()) {
      const size_t comma = std::min(t.find(',', start), t.size());
      const std::string item = trim(t.substr(start, comma - start));
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0)
        fail("{}: expected key=value pairs separated by commas, got '{}'", where, item);
      field[trim(item.substr(0, eq))] = trim(item.substr(eq + 1));
      start = comma + 1;
    }
  };
  s.parse_yaml = from_yaml;
  s.render = [&field] { return emit(field); };
  s.default_text = s.render();
  return s;
}

Section Registry::section(const std::string& name, std::string help) {
  sections_.push_back({name, std::move(help)});
  return Section(*this, name);
}

Setting* Registry::find(const std::string& key_or_alias) {
  for (auto& s : settings_) {
    if (s->key == key_or_alias) return s.get();
    for (const auto& a : s->aliases)
      if (a == key_or_alias) return s.get();
  }
  return nullptr;
}

void Registry::set_from_flag(const std::string& name, const std::string& text, const std::string& flag) {
  Setting* s = find(name);
  if (s == nullptr) fail("{}: unknown setting", flag);
  s->parse_text(s->unescape_flags ? unescape(text) : text, flag);
  s->source = flag;
}

void Registry::load_yaml_file(const std::filesystem::path& path) {
  const std::string file = path.string();
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    fail("{}: cannot read the config file", file);
  } catch (const YAML::Exception& e) {
    fail("{}:{}:{}: not valid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) fail("{}: expected a map of sections (model:, data:, ...)", file);
  for (const auto& section : root) {
    const std::string name = section.first.as<std::string>();
    const bool known = std::any_of(sections_.begin(), sections_.end(), [&](const auto& s) { return s.name == name; });
    if (!known) fail("{}: unknown section '{}'", file, name);
    if (section.second.IsNull()) continue;
    if (!section.second.IsMap()) fail("{}: {}: expected a map of settings", file, name);
    for (const auto& kv : section.second) {
      const std::string key = name + "." + kv.first.as<std::string>();
      Setting* s = find(key);
      if (s == nullptr || s->key != key) fail("{}: unknown setting '{}'", file, key);
      s->parse_yaml(kv.second, fmt::format("{}:{}: {}", file, kv.second.Mark().line + 1, key));
      s->source = file;
    }
  }
}

std::string Registry::to_yaml() const {
  std::string out;
  for (const auto& section : sections_) {
    out += section.name + ":\n";
    for (const auto& s : settings_) {
      if (s->key.rfind(section.name + ".", 0) != 0) continue;
      out += fmt::format("  {}: {}  # {}\n", s->key.substr(section.name.size() + 1), s->render(), s->source);
    }
  }
  return out;
}

std::string Registry::table() const {
  size_t width = 0;
  for (const auto& s : settings_) width = std::max(width, s->key.size());
  std::string out;
  for (const auto& s : settings_)
    out += fmt::format("  {:<{}}  {}{}\n", s->key, width, s->render(),
                       s->source == "default" ? "" : "  (" + s->source + ")");
  return out;
}

std::string Registry::markdown() const {
  std::string out;
  for (const auto& section : sections_) {
    out += fmt::format("## `{}`\n\n{}\n\n", section.name, section.help);
    out += "| key | type | default | flag aliases | meaning |\n|---|---|---|---|---|\n";
    for (const auto& s : settings_) {
      if (s->key.rfind(section.name + ".", 0) != 0) continue;
      std::string aliases;
      for (const auto& a : s->aliases) aliases += (aliases.empty() ? "" : ", ") + fmt::format("`--{}`", a);
      std::string def = s->default_text;
      // Markdown tables cannot hold a literal `|`.
      for (size_t p = 0; (p = def.find('|', p)) != std::string::npos; p += 2) def.replace(p, 1, "\\|");
      out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", s->key, s->type, def, aliases, s->help);
    }
    out += "\n";
  }
  return out;
}

}  // namespace finch::config
