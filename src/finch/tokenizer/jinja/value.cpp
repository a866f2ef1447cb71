#include "finch/tokenizer/jinja/value.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace finch::tokenizer::jinja {

void raise(const std::string& message) { throw EvalError(message); }

Value Value::undefined(std::string why) {
  Value v;
  v.text = std::move(why);
  return v;
}
Value Value::none() {
  Value v;
  v.kind = Kind::None;
  return v;
}
Value Value::from_bool(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.boolean = b;
  return v;
}
Value Value::from_int(std::int64_t i) {
  Value v;
  v.kind = Kind::Int;
  v.integer = i;
  return v;
}
Value Value::from_float(double d) {
  Value v;
  v.kind = Kind::Float;
  v.real = d;
  return v;
}
Value Value::from_string(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.text = std::move(s);
  return v;
}
namespace {
std::uint32_t nesting_of(const List& items) {
  std::uint32_t n = 0;
  for (const Value& item : items) n = std::max(n, item.nesting);
  if (n + 1 > kMaxValueNesting) raise("lists and dicts nested more than " + std::to_string(kMaxValueNesting) + " deep");
  return n + 1;
}
}  // namespace

Value Value::from_list(List items) {
  Value v;
  v.kind = Kind::List;
  v.nesting = nesting_of(items);
  v.list = std::make_shared<const List>(std::move(items));
  return v;
}
Value Value::iterator(List items, const char* kind) {
  Value v = from_list(std::move(items));
  v.iter_kind = kind;
  return v;
}

Value Value::from_tuple(List items) {
  Value v = from_list(std::move(items));
  v.kind = Kind::Tuple;
  return v;
}
Value Value::from_dict(Dict d) {
  Value v;
  v.kind = Kind::Dict;
  std::uint32_t n = 0;
  for (const auto& [k, item] : d.items) n = std::max(n, item.nesting);
  if (n + 1 > kMaxValueNesting) raise("lists and dicts nested more than " + std::to_string(kMaxValueNesting) + " deep");
  v.nesting = n + 1;
  v.dict = std::make_shared<const Dict>(std::move(d));
  return v;
}
Value Value::from_callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn) {
  Value v;
  v.kind = Kind::Callable;
  v.callable = std::make_shared<const Callable>(Callable{std::move(name), std::move(fn)});
  return v;
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k.is_string() && k.text == key) return &v;
  return nullptr;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.text));
  for (const auto& [k, v] : items)
    if (equal(k, key)) return &v;
  return nullptr;
}

void Dict::set(std::string key, Value value) { set(Value::from_string(std::move(key)), std::move(value)); }

void Dict::set(Value key, Value value) {
  for (auto& [k, v] : items)
    if (equal(k, key)) {
      v = std::move(value);
      return;
    }
  items.emplace_back(std::move(key), std::move(value));
}

std::string type_name(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return "Undefined";
    case Value::Kind::None: return "NoneType";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::List: return v.iter_kind ? v.iter_kind : "list";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Namespace: return "Namespace";
    case Value::Kind::Callable: return "function";
  }
  return "object";
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return false;
    case Value::Kind::Bool: return v.boolean;
    case Value::Kind::Int: return v.integer != 0;
    case Value::Kind::Float: return v.real != 0.0;
    case Value::Kind::String: return !v.text.empty();
    case Value::Kind::List:
    case Value::Kind::Tuple: return v.is_iterator() || !v.list->empty();
    case Value::Kind::Dict: return !v.dict->items.empty();
    default: return true;
  }
}

bool equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() == b.as_int();
    return a.as_float() == b.as_float();
  }
  if (a.kind != b.kind) return false;
  if (a.iter_kind || b.iter_kind) return a.list == b.list;  // iterators and views compare by identity here
  switch (a.kind) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.text == b.text;
    case Value::Kind::List:
    case Value::Kind::Tuple: {
      if (a.list->size() != b.list->size()) return false;
      for (std::size_t i = 0; i < a.list->size(); ++i)
        if (!equal((*a.list)[i], (*b.list)[i])) return false;
      return true;
    }
    case Value::Kind::Dict: {
      if (a.dict->items.size() != b.dict->items.size()) return false;
      for (const auto& [k, v] : a.dict->items) {
        const Value* other = b.dict->find(k);
        if (!other || !equal(v, *other)) return false;
      }
      return true;
    }
    case Value::Kind::Namespace: return a.ns == b.ns;
    case Value::Kind::Callable: return a.callable == b.callable;
    default: return false;
  }
}

bool less(const Value& a, const Value& b) {
  if (a.is_undefined()) raise(a.text.empty() ? "undefined value used in a comparison" : a.text);
  if (b.is_undefined()) raise(b.text.empty() ? "undefined value used in a comparison" : b.text);
  if (a.is_number() && b.is_number()) {
    if (a.is_integral() && b.is_integral()) return a.as_int() < b.as_int();
    return a.as_float() < b.as_float();
  }
  if (a.is_string() && b.is_string()) return a.text < b.text;  // UTF-8 keeps code point order
  if (a.kind == b.kind && a.is_sequence()) {
    const List& x = *a.list;
    const List& y = *b.list;
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equal(x[i], y[i])) return less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  raise("'<' not supported between instances of '" + type_name(a) + "' and '" + type_name(b) + "'");
}

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout: positional when the
  // decimal exponent is in [-4, 16), scientific (at least two exponent digits) otherwise.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  std::size_t e_pos = sci.find('e');
  std::string digits;
  for (std::size_t i = 0; i < e_pos; ++i)
    if (sci[i] != '.') digits += sci[i];
  int exponent = std::stoi(sci.substr(e_pos + 1));
  int decpt = exponent + 1;
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out = "0." + std::string(-decpt, '0') + digits;
    } else if (decpt >= static_cast<int>(digits.size())) {
      out = digits + std::string(decpt - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, decpt) + "." + digits.substr(decpt);
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp_buf[16];
    std::snprintf(exp_buf, sizeof exp_buf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp_buf;
  }
  return sign + out;
}

std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + n > s.size()) n = s.size() - i;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::size_t code_point_count(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

std::string string_repr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (std::string_view cp : code_points(s)) {
    if (cp.size() == 1) {
      char c = cp[0];
      if (c == quote || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
        out += buf;
      } else {
        out += c;
      }
      continue;
    }
    utf8proc_int32_t code = -1;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(cp.data()), static_cast<utf8proc_ssize_t>(cp.size()),
                     &code);
    // Python's str.isprintable: not a control, format, separator or unassigned character.
    auto cat = code < 0 ? UTF8PROC_CATEGORY_CN : utf8proc_category(code);
    bool printable = !(cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CS ||
                       cat == UTF8PROC_CATEGORY_CO || cat == UTF8PROC_CATEGORY_CN || cat == UTF8PROC_CATEGORY_ZL ||
                       cat == UTF8PROC_CATEGORY_ZP || cat == UTF8PROC_CATEGORY_ZS);
    if (printable) {
      out += cp;
    } else {
      char buf[16];
      if (code < 0x100)
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(code < 0 ? 0xfffd : code));
      else if (code < 0x10000)
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(code));
      else
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(code));
      out += buf;
    }
  }
  out += quote;
  return out;
}

namespace {
std::string join_repr(const List& items, std::string_view open, std::string_view close, bool tuple) {
  std::string out(open);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += repr(items[i]);
  }
  if (tuple && items.size() == 1) out += ",";
  out += close;
  return out;
}
std::string dict_repr(const Dict& d) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : d.items) {
    if (!first) out += ", ";
    first = false;
    out += repr(k) + ": " + repr(v);
  }
  return out + "}";
}
}  // namespace

std::string to_str(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return "";
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return v.boolean ? "True" : "False";
    case Value::Kind::Int: return std::to_string(v.integer);
    case Value::Kind::Float: return float_repr(v.real);
    case Value::Kind::String: return v.text;
    case Value::Kind::List:
      if (v.is_iterator()) return std::string("<") + v.iter_kind + " object>";
      if (v.iter_kind) return v.iter_kind + join_repr(*v.list, "([", "])", false);
      return join_repr(*v.list, "[", "]", false);
    case Value::Kind::Tuple: return join_repr(*v.list, "(", ")", true);
    case Value::Kind::Dict: return dict_repr(*v.dict);
    case Value::Kind::Namespace: {
      // A namespace can hold itself; Python prints the inner one as {...}.
      thread_local std::vector<const Namespace*> active;
      if (std::find(active.begin(), active.end(), v.ns.get()) != active.end()) return "<Namespace {...}>";
      if (active.size() > kMaxValueNesting) raise("maximum recursion depth exceeded while getting the repr of an object");
      active.push_back(v.ns.get());
      std::string out;
      try {
        out = "<Namespace " + dict_repr(v.ns->attributes) + ">";
      } catch (...) {
        active.pop_back();
        throw;
      }
      active.pop_back();
      return out;
    }
    case Value::Kind::Callable: return "<function " + v.callable->name + ">";
  }
  return "";
}

std::string repr(const Value& v) {
  if (v.is_string()) return v.markup ? "Markup(" + string_repr(v.text) + ")" : string_repr(v.text);
  if (v.is_undefined()) return "Undefined";
  return to_str(v);
}

Value key_from_text(const std::string& text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return Value::from_string(text);
  std::int64_t v = 0;
  if (std::from_chars(text.data(), text.data() + text.size(), v).ec != std::errc()) raise("index out of range");
  return Value::from_int(v);
}

}  // namespace finch::tokenizer::jinja
