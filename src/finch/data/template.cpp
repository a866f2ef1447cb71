#include "finch/data/template.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "finch/core/error.h"

namespace finch::data {
namespace {

// Python's repr(float): the shortest digits that read back to the same
// double, in positional notation when the decimal exponent is in [-4, 16),
// otherwise as d.ddde+XX.
std::string python_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const std::string sci(buf, end);  // like -1.2345e+06
  const size_t e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exponent = std::stoi(sci.substr(e + 1));
  const bool negative = mantissa[0] == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  std::string out;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out = "0." + std::string(-exponent - 1, '0') + digits;
    } else if (static_cast<int>(digits.size()) <= exponent + 1) {
      out = digits + std::string(exponent + 1 - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, exponent + 1) + "." + digits.substr(exponent + 1);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }
  return negative ? "-" + out : out;
}

// Python's repr(str): single quotes unless the text holds ' and no ".
std::string python_repr(const std::string& s) {
  const char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(quote)) out += std::string("\\") + quote;
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out + quote;
}

std::string python_repr(const nlohmann::ordered_json& v) {
  return v.is_string() ? python_repr(v.get_ref<const std::string&>()) : python_str(v);
}

}  // namespace

std::string python_str(const nlohmann::ordered_json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string: return v.get<std::string>();
    case nlohmann::json::value_t::null: return "None";
    case nlohmann::json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case nlohmann::json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return python_float(v.get<double>());
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + python_repr(v[i]);
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        out += (first ? "" : ", ") + python_repr(k) + ": " + python_repr(item);
        first = false;
      }
      return out + "}";
    }
    default: return v.dump();
  }
}

Template::Template(const std::string& text, const std::string& setting) {
  std::string literal;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        literal += '}';
        ++i;
        continue;
      }
      fail("{}: single '}}' at offset {}; write '}}}}' for a literal brace", setting, i);
    }
    if (c != '{') {
      literal += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
      continue;
    }
    const size_t close = text.find('}', i);
    if (close == std::string::npos) fail("{}: '{{' at offset {} is never closed; write '{{{{' for a literal brace", setting, i);
    const std::string name = text.substr(i + 1, close - i - 1);
    if (name.empty()) fail("{}: empty placeholder '{{}}' at offset {}; name the column, e.g. {{instruction}}", setting, i);
    if (name.find_first_of("!:[.{") != std::string::npos)
      fail("{}: placeholder '{{{}}}' uses a format spec, conversion or index; only {{column}} is supported", setting,
           name);
    if (std::all_of(name.begin(), name.end(), [](unsigned char ch) { return std::isdigit(ch); }))
      fail("{}: positional placeholder '{{{}}}'; name the column instead", setting, name);
    if (!literal.empty()) pieces_.push_back({std::move(literal), -1});
    literal.clear();
    const auto it = std::find(fields_.begin(), fields_.end(), name);
    const int index = static_cast<int>(it - fields_.begin());
    if (it == fields_.end()) fields_.push_back(name);
    pieces_.push_back({{}, index});
    i = close;
  }
  if (!literal.empty()) pieces_.push_back({std::move(literal), -1});
}

std::string Template::render(const std::vector<const nlohmann::ordered_json*>& values) const {
  FINCH_CHECK(values.size() == fields_.size(), "{} values for {} fields", values.size(), fields_.size());
  std::string out;
  for (const auto& p : pieces_) {
    if (p.field < 0) {
      out += p.literal;
    } else {
      const auto* v = values[p.field];
      out += v->is_string() ? v->get_ref<const std::string&>() : python_str(*v);
    }
  }
  return out;
}

}  // namespace finch::data
