// Python's string formatting as templates use it: json.dumps (transformers'
// tojson), `"%s" % x` and `"{}".format(x)`.
#include <cmath>
#include <cstdio>

#include "finch/tokenizer/jinja/interpreter.h"
#include "finch/tokenizer/jinja/text.h"

namespace finch::tokenizer::jinja {
namespace {

void json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  if (ensure_ascii) {
    // Everything outside ' '..'~' as \uXXXX (UTF-16 surrogate pairs above the BMP).
    for (auto cp : code_points(s)) {
      char32_t c = decode(cp);
      auto put = [&](unsigned u) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", u);
        out += buf;
      };
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c == '\b') out += "\\b";
      else if (c == '\f') out += "\\f";
      else if (c >= 0x20 && c <= 0x7e) out += static_cast<char>(c);
      else if (c < 0x10000) put(static_cast<unsigned>(c));
      else {
        char32_t v = c - 0x10000;
        put(0xD800 + static_cast<unsigned>(v >> 10));
        put(0xDC00 + static_cast<unsigned>(v & 0x3FF));
      }
    }
    out += '"';
    return;
  }
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;  // ensure_ascii=False: everything else as it is
        }
    }
  }
  out += '"';
}

struct JsonStyle {
  bool indented = false;
  std::string indent;
  std::string item_sep = ", ";
  std::string key_sep = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

void json_value(std::string& out, const Value& v, const JsonStyle& st, int level, int depth) {
  if (depth > 1000) raise("maximum recursion depth exceeded while encoding a JSON object");
  auto newline = [&](int lvl) {
    if (!st.indented) return;
    out += '\n';
    for (int i = 0; i < lvl; ++i) out += st.indent;
  };
  switch (v.kind) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.boolean ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.integer); return;
    case Value::Kind::Float:
      if (std::isnan(v.real)) out += "NaN";
      else if (std::isinf(v.real)) out += v.real < 0 ? "-Infinity" : "Infinity";
      else out += float_repr(v.real);
      return;
    case Value::Kind::String: json_string(out, v.text, st.ensure_ascii); return;
    case Value::Kind::List:
    case Value::Kind::Tuple: {
      if (v.iter_kind) raise("Object of type " + type_name(v) + " is not JSON serializable");
      if (v.list->empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (std::size_t i = 0; i < v.list->size(); ++i) {
        if (i) out += st.item_sep;
        newline(level + 1);
        json_value(out, (*v.list)[i], st, level + 1, depth + 1);
      }
      newline(level);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      if (v.dict->items.empty()) {
        out += "{}";
        return;
      }
      // json.dumps writes int, float, bool and None keys as their JSON text.
      std::vector<std::pair<std::string, const Value*>> items;
      for (const auto& [k, val] : v.dict->items) {
        std::string key;
        if (k.is_string()) key = k.text;
        else if (k.is_none()) key = "null";
        else if (k.kind == Value::Kind::Bool) key = k.boolean ? "true" : "false";
        else json_value(key, k, st, 0, depth + 1);
        items.emplace_back(std::move(key), &val);
      }
      if (st.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += st.item_sep;
        newline(level + 1);
        json_string(out, items[i].first, st.ensure_ascii);
        out += st.key_sep;
        json_value(out, *items[i].second, st, level + 1, depth + 1);
      }
      newline(level);
      out += '}';
      return;
    }
    default: raise("Object of type " + type_name(v) + " is not JSON serializable");
  }
}

}  // namespace

std::string to_json(const Value& v, const Value& indent, const Value& separators, bool sort_keys, bool ensure_ascii) {
  JsonStyle st;
  st.sort_keys = sort_keys;
  st.ensure_ascii = ensure_ascii;
  if (!indent.is_none()) {
    st.indented = true;
    st.item_sep = ",";
    if (indent.is_string()) st.indent = indent.text;
    else if (indent.is_integral()) st.indent = std::string(std::max<std::int64_t>(0, std::min<std::int64_t>(indent.as_int(), 1000)), ' ');
    else raise("tojson: indent must be an int or a str");
  }
  if (!separators.is_none()) {
    if (!separators.is_sequence() || separators.list->size() != 2 || !(*separators.list)[0].is_string() ||
        !(*separators.list)[1].is_string())
      raise("tojson: separators must be a pair of strings");
    st.item_sep = (*separators.list)[0].text;
    st.key_sep = (*separators.list)[1].text;
  }
  std::string out;
  json_value(out, v, st, 0, 0);
  return out;
}

namespace {

// One conversion of the %-format and format-spec mini languages.
struct Spec {
  char fill = ' ';
  char align = '\0';  // '<', '>', '^' or '=' (none: numbers right, strings left)
  char sign = '-';
  bool alt = false, zero = false;
  int width = -1, precision = -1;
  char type = '\0';
};

std::string pad(std::string body, const Spec& sp, bool numeric) {
  auto n = static_cast<int>(code_point_count(body));
  if (sp.width <= n) return body;
  int extra = sp.width - n;
  char align = sp.align ? sp.align : (numeric ? '>' : '<');
  if (sp.zero && numeric && !sp.align) {
    std::size_t at = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    return body.insert(at, std::string(extra, '0'));
  }
  if (align == '<') return body + std::string(extra, sp.fill);
  if (align == '^') return std::string(extra / 2, sp.fill) + body + std::string(extra - extra / 2, sp.fill);
  return std::string(extra, sp.fill) + body;
}

std::string format_number(const Value& v, const Spec& sp, char type) {
  char buf[512];
  std::string sign_flag = sp.sign == '+' ? "+" : sp.sign == ' ' ? " " : "";
  if (type == 'd' || type == 'i' || type == 'x' || type == 'X' || type == 'o' || type == 'c') {
    if (!v.is_number()) raise("%" + std::string(1, type) + " format: a real number is required, not " + type_name(v));
    std::int64_t i = v.kind == Value::Kind::Float ? static_cast<std::int64_t>(v.real) : v.as_int();
    if (type == 'c') return encode(static_cast<char32_t>(i));
    std::string fmt = "%" + sign_flag + (type == 'd' || type == 'i' ? "lld" : std::string("ll") + type);
    std::snprintf(buf, sizeof buf, fmt.c_str(), static_cast<long long>(i));
    return buf;
  }
  if (!v.is_number()) raise("must be real number, not " + type_name(v));
  int precision = sp.precision < 0 ? 6 : std::min(sp.precision, 100);
  std::string fmt = "%" + sign_flag + (sp.alt ? "#" : "") + "." + std::to_string(precision) + type;
  std::snprintf(buf, sizeof buf, fmt.c_str(), v.as_float());
  return buf;
}

std::string convert(const Value& v, const Spec& sp) {
  switch (sp.type) {
    case 's': case '\0': {
      std::string s = to_str(v);
      if (sp.precision >= 0) {
        auto cps = code_points(s);
        if (static_cast<int>(cps.size()) > sp.precision) {
          std::string cut;
          for (int i = 0; i < sp.precision; ++i) cut += cps[i];
          s = cut;
        }
      }
      return pad(s, sp, sp.type == '\0' && v.is_number());
    }
    case 'r': case 'a': return pad(repr(v), sp, false);
    case 'd': case 'i': case 'x': case 'X': case 'o': case 'c': case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
      return pad(format_number(v, sp, sp.type), sp, true);
    default: raise(std::string("unsupported format character '") + sp.type + "'");
  }
}

}  // namespace

std::string percent_format(Interpreter& in, const std::string& f, const Value& args) {
  List positional;
  const Dict* mapping = nullptr;
  if (args.kind == Value::Kind::Tuple) positional = *args.list;
  else if (args.kind == Value::Kind::Dict) mapping = args.dict.get();
  else positional.push_back(args);
  std::size_t next = 0;
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) raise("incomplete format");
    const Value* value = nullptr;
    if (f[i] == '(') {
      std::size_t close = f.find(')', i);
      if (close == std::string::npos) raise("incomplete format key");
      if (!mapping) raise("format requires a mapping");
      value = mapping->find(f.substr(i + 1, close - i - 1));
      if (!value) raise("KeyError: '" + f.substr(i + 1, close - i - 1) + "'");
      i = close + 1;
    }
    Spec sp;
    for (; i < f.size() && std::string_view("-+ #0").find(f[i]) != std::string_view::npos; ++i) {
      if (f[i] == '-') sp.align = '<';
      else if (f[i] == '+' || f[i] == ' ') sp.sign = f[i];
      else if (f[i] == '#') sp.alt = true;
      else sp.zero = true;
    }
    if (sp.align == '<') sp.zero = false;
    if (sp.align != '<') sp.align = sp.zero ? '\0' : '>';  // %-format right-aligns strings too
    for (; i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])); ++i)
      sp.width = std::max(sp.width, 0) * 10 + (f[i] - '0');
    if (i < f.size() && f[i] == '.') {
      sp.precision = 0;
      for (++i; i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])); ++i)
        sp.precision = sp.precision * 10 + (f[i] - '0');
    }
    if (sp.width > 10000 || sp.precision > 10000) raise("format width too large");
    if (i >= f.size()) raise("incomplete format");
    if (f[i] == '%') {
      out += '%';
      continue;
    }
    sp.type = f[i];
    if (!value) {
      if (mapping) raise("format requires a mapping");
      if (next >= positional.size()) raise("not enough arguments for format string");
      value = &positional[next++];
    }
    out += convert(*value, sp);
    in.check_size(out.size());
  }
  // Python treats any non-tuple object with __getitem__ (a list too) as a mapping here: no count check.
  if (!mapping && args.kind != Value::Kind::List && next < positional.size())
    raise("not all arguments converted during string formatting");
  return out;
}

std::string str_format(Interpreter& in, const std::string& f, CallArgs& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (c == '}') {
      if (i + 1 < f.size() && f[i + 1] == '}') ++i;
      else raise("Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    std::size_t close = f.find('}', i);
    if (close == std::string::npos) raise("Single '{' encountered in format string");
    std::string field = f.substr(i + 1, close - i - 1);
    i = close;
    std::string spec_text;
    char conversion = '\0';
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec_text = field.substr(colon + 1);
      field.resize(colon);
    }
    if (auto bang = field.find('!'); bang != std::string::npos) {
      if (bang + 2 != field.size()) raise("invalid conversion in a format string");
      conversion = field[bang + 1];
      field.resize(bang);
    }
    // The first part names an argument; .attr and [key] follow, looked up as jinja2's sandbox does.
    std::size_t end = field.find_first_of(".[");
    std::string head = field.substr(0, end);
    Value value;
    if (head.empty()) {
      if (auto_index >= args.positional.size()) raise("Replacement index " + std::to_string(auto_index) + " out of range for positional args tuple");
      value = args.positional[auto_index++];
    } else if (std::all_of(head.begin(), head.end(), ::isdigit)) {
      std::size_t idx = std::stoul(head);
      if (idx >= args.positional.size()) raise("Replacement index " + head + " out of range for positional args tuple");
      value = args.positional[idx];
    } else {
      const Value* kw = nullptr;
      for (auto& [k, v] : args.keyword)
        if (k == head) kw = &v;
      if (!kw) raise("KeyError: '" + head + "'");
      value = *kw;
    }
    while (end != std::string::npos && end < field.size()) {
      if (field[end] == '.') {
        std::size_t next = field.find_first_of(".[", end + 1);
        value = in.getattr(value, field.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1));
        end = next;
      } else {
        std::size_t rb = field.find(']', end);
        if (rb == std::string::npos) raise("Missing ']' in format string");
        std::string key = field.substr(end + 1, rb - end - 1);
        value = in.getitem(value, key_from_text(key));
        end = rb + 1;
      }
    }
    if (conversion == 'r' || conversion == 'a') value = Value::from_string(repr(value));
    else if (conversion == 's') value = Value::from_string(to_str(value));
    Spec sp;
    std::size_t k = 0;
    auto is_align = [](char ch) { return ch == '<' || ch == '>' || ch == '^' || ch == '='; };
    if (spec_text.size() >= 2 && is_align(spec_text[1])) {
      sp.fill = spec_text[0];
      sp.align = spec_text[1];
      k = 2;
    } else if (!spec_text.empty() && is_align(spec_text[0])) {
      sp.align = spec_text[0];
      k = 1;
    }
    if (k < spec_text.size() && (spec_text[k] == '+' || spec_text[k] == '-' || spec_text[k] == ' ')) sp.sign = spec_text[k++];
    if (k < spec_text.size() && spec_text[k] == '#') sp.alt = true, ++k;
    if (k < spec_text.size() && spec_text[k] == '0') sp.zero = true, ++k;
    for (; k < spec_text.size() && std::isdigit(static_cast<unsigned char>(spec_text[k])); ++k)
      sp.width = std::max(sp.width, 0) * 10 + (spec_text[k] - '0');
    if (k < spec_text.size() && spec_text[k] == '.') {
      sp.precision = 0;
      for (++k; k < spec_text.size() && std::isdigit(static_cast<unsigned char>(spec_text[k])); ++k)
        sp.precision = sp.precision * 10 + (spec_text[k] - '0');
    }
    if (k < spec_text.size()) sp.type = spec_text[k++];
    if (k != spec_text.size() || sp.width > 10000 || sp.precision > 10000) raise("Invalid format specifier '" + spec_text + "'");
    if (sp.type == '\0' && value.kind == Value::Kind::Float && sp.precision >= 0) sp.type = 'g';
    out += convert(value, sp);
    in.check_size(out.size());
  }
  return out;
}

}  // namespace finch::tokenizer::jinja
