// jinja2's builtin filters (jinja2/filters.py) and transformers' tojson.
// Filters take the value as jinja2 hands it over: an Undefined prints as ""
// and iterates as empty, so `x|trim` or `x|length` of a missing key works.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "finch/tokenizer/jinja/interpreter.h"
#include "finch/tokenizer/jinja/lexer.h"
#include "finch/tokenizer/jinja/text.h"

namespace finch::tokenizer::jinja {
namespace {

using Filter = Value (*)(Interpreter&, const Value&, CallArgs&);

bool flag(CallArgs& a, std::size_t i, std::string_view name, bool dflt = false) {
  const Value* v = find_arg(a, i, name);
  return v ? truthy(*v) : dflt;
}

std::string soft_str(const Value& v) { return to_str(v); }

Value markup(std::string s) {
  Value v = Value::from_string(std::move(s));
  v.markup = true;
  return v;
}

// Keeps a Markup operand Markup, as markupsafe's str methods do.
Value like(const Value& operand, std::string s) {
  Value v = Value::from_string(std::move(s));
  v.markup = operand.markup;
  return v;
}


std::int64_t length(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return static_cast<std::int64_t>(code_point_count(v.text));
    case Value::Kind::List:
    case Value::Kind::Tuple:
      if (v.is_iterator()) raise("object of type '" + type_name(v) + "' has no len()");
      return static_cast<std::int64_t>(v.list->size());
    case Value::Kind::Dict: return static_cast<std::int64_t>(v.dict->items.size());
    default: raise("object of type '" + type_name(v) + "' has no len()");
  }
}

// jinja2's make_attrgetter: "a.b.0" looked up item by item.
Value get_path(Interpreter& in, const Value& obj, const std::string& path, const Value* dflt = nullptr) {
  Value cur = obj;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    cur = in.getitem(cur, key_from_text(part));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (dflt && cur.is_undefined()) return *dflt;
  return cur;
}

// Sort key: strings folded to lower case unless case sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::from_string(to_lower(v.text));
  return v;
}

Value f_abs(Interpreter&, const Value& v, CallArgs&) {
  if (v.kind == Value::Kind::Float) return Value::from_float(std::fabs(v.real));
  if (v.is_integral()) {
    if (v.as_int() == std::numeric_limits<std::int64_t>::min()) raise("integer overflow");
    return Value::from_int(std::llabs(v.as_int()));
  }
  raise("bad operand type for abs(): '" + type_name(v) + "'");
}

Value f_attr(Interpreter& in, const Value& v, CallArgs& a) {
  const Value* name = find_arg(a, 0, "name");
  if (!name || !name->is_string()) raise("attr filter expects an attribute name");
  return in.getattr(v, name->text);
}

Value f_batch(Interpreter& in, const Value& v, CallArgs& a) {
  const Value* n = find_arg(a, 0, "linecount");
  if (!n || !n->is_integral() || n->as_int() <= 0) raise("batch expects a positive line count");
  const Value* fill = find_arg(a, 1, "fill_with");
  List out, cur;
  for (const Value& item : in.iterate(v)) {
    cur.push_back(item);
    if (static_cast<std::int64_t>(cur.size()) == n->as_int()) {
      out.push_back(Value::from_list(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (fill && !fill->is_none())
      while (static_cast<std::int64_t>(cur.size()) < n->as_int()) cur.push_back(*fill);
    out.push_back(Value::from_list(std::move(cur)));
  }
  return Value::iterator(std::move(out), "generator");
}

Value f_capitalize(Interpreter&, const Value& v, CallArgs&) { return like(v, capitalize(soft_str(v))); }

Value f_center(Interpreter&, const Value& v, CallArgs& a) {
  std::string s = soft_str(v);
  const Value* w = find_arg(a, 0, "width");
  std::int64_t width = w ? w->as_int() : 80;
  auto n = static_cast<std::int64_t>(code_point_count(s));
  if (width <= n) return Value::from_string(s);
  std::int64_t pad = width - n;
  // Python's str.center puts the extra space on the right unless the width is odd.
  std::int64_t left = pad / 2 + (pad & width & 1);
  return Value::from_string(std::string(left, ' ') + s + std::string(pad - left, ' '));
}

Value f_length(Interpreter&, const Value& v, CallArgs&) { return Value::from_int(length(v)); }

Value f_default(Interpreter&, const Value& v, CallArgs& a) {
  const Value* d = find_arg(a, 0, "default_value");
  bool boolean = flag(a, 1, "boolean");
  if (v.is_undefined() || (boolean && !truthy(v))) return d ? *d : Value::from_string("");
  return v;
}

Value f_dictsort(Interpreter&, const Value& v, CallArgs& a) {
  if (v.kind != Value::Kind::Dict) raise("dictsort expects a mapping");
  bool case_sensitive = flag(a, 0, "case_sensitive");
  const Value* by = find_arg(a, 1, "by");
  bool by_value = by && by->is_string() && by->text == "value";
  bool reverse = flag(a, 2, "reverse");
  List items;
  for (const auto& [k, val] : v.dict->items) items.push_back(Value::from_tuple({k, val}));
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    const Value& kx = (*x.list)[by_value ? 1 : 0];
    const Value& ky = (*y.list)[by_value ? 1 : 0];
    return reverse ? less(sort_key(ky, case_sensitive), sort_key(kx, case_sensitive))
                   : less(sort_key(kx, case_sensitive), sort_key(ky, case_sensitive));
  });
  return Value::from_list(std::move(items));
}

Value f_escape(Interpreter&, const Value& v, CallArgs&) {
  if (v.markup) return v;
  return markup(html_escape(soft_str(v)));
}

Value f_forceescape(Interpreter&, const Value& v, CallArgs&) { return markup(html_escape(soft_str(v))); }

Value f_first(Interpreter& in, const Value& v, CallArgs&) {
  List items = in.iterate(v);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value f_last(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_iterator()) raise("'" + type_name(v) + "' object is not reversible");
  List items = in.iterate(v);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

// Python's float(str): optional spaces and sign, digits, inf/nan.
bool parse_float(std::string_view s, double& out) {
  std::string t(strip_python_space(s, true, true));
  t.erase(std::remove(t.begin(), t.end(), '_'), t.end());
  if (t.empty()) return false;
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return false;
  std::string lower = to_lower(t);
  if (lower.find("0x") != std::string::npos) return false;  // strtod takes hex, Python does not
  return true;
}

bool parse_int(std::string_view s, std::int64_t base, std::int64_t& out) {
  std::string t(strip_python_space(s, true, true));
  if (t.empty()) return false;
  bool neg = false;
  std::size_t i = 0;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    ++i;
  }
  if (i >= t.size()) return false;
  std::int64_t v = 0;
  bool prev_underscore = true;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_') {
      if (prev_underscore) return false;
      prev_underscore = true;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? std::tolower(c) - 'a' + 10 : 99;
    if (d >= base) return false;
    if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) raise("integer overflow");
    prev_underscore = false;
  }
  if (prev_underscore) return false;
  out = neg ? -v : v;
  return true;
}

Value f_int(Interpreter&, const Value& v, CallArgs& a) {
  const Value* d = find_arg(a, 0, "default");
  const Value* b = find_arg(a, 1, "base");
  Value dflt = d ? *d : Value::from_int(0);
  if (v.is_undefined()) raise(v.text.empty() ? "value is undefined" : v.text);
  if (v.is_integral()) return Value::from_int(v.as_int());
  if (v.kind == Value::Kind::Float) {
    if (!std::isfinite(v.real) || std::fabs(v.real) >= 9.2e18) return dflt;
    return Value::from_int(static_cast<std::int64_t>(v.real));
  }
  if (v.is_string()) {
    std::int64_t out;
    if (parse_int(v.text, b ? b->as_int() : 10, out)) return Value::from_int(out);
    double f;
    if (parse_float(v.text, f) && std::isfinite(f) && std::fabs(f) < 9.2e18)
      return Value::from_int(static_cast<std::int64_t>(f));
  }
  return dflt;
}

Value f_float(Interpreter&, const Value& v, CallArgs& a) {
  const Value* d = find_arg(a, 0, "default");
  if (v.is_undefined()) raise(v.text.empty() ? "value is undefined" : v.text);
  if (v.is_number()) return Value::from_float(v.as_float());
  double f;
  if (v.is_string() && parse_float(v.text, f)) return Value::from_float(f);
  return d ? *d : Value::from_float(0.0);
}

Value f_format(Interpreter& in, const Value& v, CallArgs& a) {
  if (!a.keyword.empty() && !a.positional.empty()) raise("can't handle positional and keyword arguments at the same time");
  if (!a.keyword.empty()) {
    Dict d;
    for (auto& [k, val] : a.keyword) d.set(k, val);
    return Value::from_string(percent_format(in, soft_str(v), Value::from_dict(std::move(d))));
  }
  return Value::from_string(percent_format(in, soft_str(v), Value::from_tuple(a.positional)));
}

Value f_indent(Interpreter&, const Value& v, CallArgs& a) {
  const Value* w = find_arg(a, 0, "width");
  std::string indent = w && w->is_string() ? w->text : std::string(w ? std::max<std::int64_t>(0, w->as_int()) : 4, ' ');
  bool first = flag(a, 1, "first");
  bool blank = flag(a, 2, "blank");
  if (!v.is_string()) raise("unsupported operand type(s) for +=: '" + type_name(v) + "' and 'str'");  // no str() in jinja2
  std::string s = v.text + "\n";  // jinja2's quirk so that splitlines keeps a trailing empty line
  auto lines = splitlines(s);
  std::string out;
  if (blank) {
    for (std::size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" + indent : "") + lines[i];
  } else {
    out = lines.empty() ? "" : lines[0];
    for (std::size_t i = 1; i < lines.size(); ++i) out += "\n" + (lines[i].empty() ? "" : indent + lines[i]);
  }
  if (first) out = indent + out;
  return Value::from_string(out);
}

Value f_items(Interpreter&, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::iterator({}, "generator");
  if (v.kind != Value::Kind::Dict) raise("Can only get item pairs from a mapping.");
  List out;
  for (const auto& [k, val] : v.dict->items) out.push_back(Value::from_tuple({k, val}));
  return Value::iterator(std::move(out), "generator");
}

Value f_join(Interpreter& in, const Value& v, CallArgs& a) {
  const Value* d = find_arg(a, 0, "d");
  const Value* attribute = find_arg(a, 1, "attribute");
  std::string sep = d ? soft_str(*d) : "";
  std::string out;
  bool first = true;
  for (const Value& item : in.iterate(v)) {
    if (!first) out += sep;
    first = false;
    out += soft_str(attribute && !attribute->is_none() ? get_path(in, item, to_str(*attribute)) : item);
    in.check_size(out.size());
  }
  return Value::from_string(std::move(out));
}

Value f_list(Interpreter& in, const Value& v, CallArgs&) { return Value::from_list(in.iterate(v)); }
Value f_lower(Interpreter&, const Value& v, CallArgs&) { return like(v, to_lower(soft_str(v))); }
Value f_upper(Interpreter&, const Value& v, CallArgs&) { return like(v, to_upper(soft_str(v))); }

Value f_title(Interpreter&, const Value& v, CallArgs&) {
  // jinja2's own title: words split at whitespace and -({[<, first letter upper, rest lower.
  std::string s = soft_str(v), out;
  bool start = true;
  for (auto cp : code_points(s)) {
    bool sep = is_python_space(cp) || cp == "-" || cp == "(" || cp == "{" || cp == "[" || cp == "<";
    if (sep) {
      out += cp;
      start = true;
    } else {
      out += start ? to_upper(cp) : to_lower(cp);  // jinja2: item[0].upper()
      start = false;
    }
  }
  return Value::from_string(std::move(out));
}

Value f_map(Interpreter& in, const Value& v, CallArgs& a) {
  List out;
  if (!truthy(v)) return Value::iterator({}, "generator");  // as jinja2: `if value:` first
  const Value* attribute = nullptr;
  const Value* dflt = nullptr;
  for (auto& [k, val] : a.keyword) {
    if (k == "attribute") attribute = &val;
    else if (k == "default") dflt = &val;
  }
  if (attribute) {
    for (const Value& item : in.iterate(v)) out.push_back(get_path(in, item, to_str(*attribute), dflt));
    return Value::iterator(std::move(out), "generator");
  }
  if (a.positional.empty()) raise("map requires a filter argument");
  std::string name = to_str(a.positional[0]);
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + 1, a.positional.end());
  rest.keyword = a.keyword;
  for (const Value& item : in.iterate(v)) {
    CallArgs args = rest;
    out.push_back(in.apply_filter(name, item, args));
  }
  return Value::iterator(std::move(out), "generator");
}

Value min_max(Interpreter& in, const Value& v, CallArgs& a, bool want_max) {
  bool case_sensitive = flag(a, 0, "case_sensitive");
  const Value* attribute = find_arg(a, 1, "attribute");
  List items = in.iterate(v);
  if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
  auto key = [&](const Value& x) {
    return sort_key(attribute && !attribute->is_none() ? get_path(in, x, to_str(*attribute)) : x, case_sensitive);
  };
  const Value* best = &items[0];
  for (const Value& x : items) {
    if (want_max ? less(key(*best), key(x)) : less(key(x), key(*best))) best = &x;
  }
  return *best;
}
Value f_max(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, true); }
Value f_min(Interpreter& in, const Value& v, CallArgs& a) { return min_max(in, v, a, false); }

Value select_common(Interpreter& in, const Value& v, CallArgs& a, bool by_attr, bool keep) {
  List out;
  if (!truthy(v)) return Value::iterator({}, "generator");  // jinja2 starts with `if value:`, so None selects nothing
  std::size_t next = 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty()) raise("Missing parameter for attribute name");
    attr = to_str(a.positional[0]);
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (a.positional.size() > next) {
    test = to_str(a.positional[next]);
    test_args.positional.assign(a.positional.begin() + static_cast<long>(next) + 1, a.positional.end());
    test_args.keyword = a.keyword;
  }
  for (const Value& item : in.iterate(v)) {
    Value subject = by_attr ? get_path(in, item, attr) : item;
    bool r;
    if (test.empty()) {
      r = truthy(subject);
    } else {
      CallArgs args = test_args;
      r = in.apply_test(test, subject, args);
    }
    if (r == keep) out.push_back(item);
  }
  return Value::iterator(std::move(out), "generator");
}
Value f_select(Interpreter& in, const Value& v, CallArgs& a) { return select_common(in, v, a, false, true); }
Value f_reject(Interpreter& in, const Value& v, CallArgs& a) { return select_common(in, v, a, false, false); }
Value f_selectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_common(in, v, a, true, true); }
Value f_rejectattr(Interpreter& in, const Value& v, CallArgs& a) { return select_common(in, v, a, true, false); }

Value f_replace(Interpreter& in, const Value& v, CallArgs& a) {
  const Value* old = find_arg(a, 0, "old");
  const Value* with = find_arg(a, 1, "new");
  const Value* count = find_arg(a, 2, "count");
  if (!old || !with) raise("replace expects old and new strings");
  std::string r = replace_all(soft_str(v), soft_str(*old), soft_str(*with),
                              count && !count->is_none() ? count->as_int() : -1);
  in.check_size(r.size());
  return Value::from_string(std::move(r));
}

Value f_reverse(Interpreter& in, const Value& v, CallArgs&) {
  if (v.is_string()) {
    auto cps = code_points(v.text);
    std::string out;
    for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
    return Value::from_string(std::move(out));
  }
  List items = in.iterate(v);
  std::reverse(items.begin(), items.end());
  // reversed() of a list or dict is a lazy iterator; of a generator, jinja2 builds a list.
  if (v.is_iterator()) return Value::from_list(std::move(items));
  if (v.kind == Value::Kind::Dict) return Value::iterator(std::move(items), "dict_reversekeyiterator");
  if (v.kind == Value::Kind::Tuple) return Value::iterator(std::move(items), "reversed");
  if (v.iter_kind) return Value::iterator(std::move(items), "dict_reverseiterator");
  return Value::iterator(std::move(items), "list_reverseiterator");
}

Value f_round(Interpreter&, const Value& v, CallArgs& a) {
  const Value* p = find_arg(a, 0, "precision");
  const Value* m = find_arg(a, 1, "method");
  std::int64_t precision = p ? p->as_int() : 0;
  std::string method = m ? to_str(*m) : "common";
  if (!v.is_number()) raise("round expects a number");
  if (v.is_integral() && precision >= 0 && method == "common") return Value::from_int(v.as_int());  // round(int, n) is an int
  double x = v.as_float();
  double scale = std::pow(10.0, static_cast<double>(precision));
  if (method == "common") {
    // Python's round(): half to even on the scaled value.
    double y = x * scale;
    double r = std::nearbyint(y);
    return Value::from_float(r / scale);
  }
  if (method == "ceil") return Value::from_float(std::ceil(x * scale) / scale);
  if (method == "floor") return Value::from_float(std::floor(x * scale) / scale);
  raise("method must be common, ceil or floor");
}

Value f_safe(Interpreter&, const Value& v, CallArgs&) { return markup(soft_str(v)); }
Value f_string(Interpreter&, const Value& v, CallArgs&) { return v.is_string() ? v : Value::from_string(soft_str(v)); }

Value f_sort(Interpreter& in, const Value& v, CallArgs& a) {
  bool reverse = flag(a, 0, "reverse");
  bool case_sensitive = flag(a, 1, "case_sensitive");
  const Value* attribute = find_arg(a, 2, "attribute");
  List items = in.iterate(v);
  auto key = [&](const Value& x) {
    return sort_key(attribute && !attribute->is_none() ? get_path(in, x, to_str(*attribute)) : x, case_sensitive);
  };
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    return reverse ? less(key(y), key(x)) : less(key(x), key(y));
  });
  return Value::from_list(std::move(items));
}

Value f_striptags(Interpreter&, const Value& v, CallArgs&) {
  std::string s = soft_str(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      std::size_t end = s.find('>', i);
      if (end != std::string::npos) {
        i = end;
        out += ' ';
        continue;
      }
    }
    out += s[i];
  }
  auto words = split(out, nullptr, -1);
  std::string joined;
  for (std::size_t i = 0; i < words.size(); ++i) joined += (i ? " " : "") + words[i];
  return Value::from_string(joined);
}

Value f_sum(Interpreter& in, const Value& v, CallArgs& a) {
  const Value* attribute = find_arg(a, 0, "attribute");
  const Value* start = find_arg(a, 1, "start");
  Value total = start ? *start : Value::from_int(0);
  for (const Value& item : in.iterate(v)) {
    Value x = attribute && !attribute->is_none() ? get_path(in, item, to_str(*attribute)) : item;
    if (!x.is_number() || !total.is_number()) raise("sum expects numbers");
    if (x.is_integral() && total.is_integral()) {
      std::int64_t r;
      if (__builtin_add_overflow(total.as_int(), x.as_int(), &r)) raise("integer overflow");
      total = Value::from_int(r);
    } else {
      total = Value::from_float(total.as_float() + x.as_float());
    }
  }
  return total;
}

Value f_tojson(Interpreter&, const Value& v, CallArgs& a) {
  check_args(a, "tojson", 4, {"ensure_ascii", "indent", "separators", "sort_keys"});
  const Value* indent = find_arg(a, 1, "indent");
  const Value* separators = find_arg(a, 2, "separators");
  return Value::from_string(
      to_json(v, indent ? *indent : Value::none(), separators ? *separators : Value::none(), flag(a, 3, "sort_keys"),
              flag(a, 0, "ensure_ascii")));
}

Value f_trim(Interpreter&, const Value& v, CallArgs& a) {
  const Value* chars = find_arg(a, 0, "chars");
  std::string c = chars && !chars->is_none() ? to_str(*chars) : std::string();
  return like(v, strip_chars(soft_str(v), chars && !chars->is_none() ? &c : nullptr, true, true));
}

Value f_truncate(Interpreter&, const Value& v, CallArgs& a) {
  if (!v.is_string()) {
    // jinja2 measures len() of the value itself and returns it when short enough.
    const Value* l = find_arg(a, 0, "length");
    if (length(v) <= (l ? l->as_int() : 255) + 5) return v;
    raise("truncate expects a string");
  }
  std::string s = soft_str(v);
  const Value* l = find_arg(a, 0, "length");
  std::int64_t len = l ? l->as_int() : 255;
  bool killwords = flag(a, 1, "killwords");
  const Value* e = find_arg(a, 2, "end");
  std::string end = e ? to_str(*e) : "...";
  const Value* lw = find_arg(a, 3, "leeway");
  std::int64_t leeway = lw && !lw->is_none() ? lw->as_int() : 5;
  auto cps = code_points(s);
  auto n = static_cast<std::int64_t>(cps.size());
  auto end_n = static_cast<std::int64_t>(code_point_count(end));
  if (len < end_n) raise("expected length >= " + std::to_string(end_n) + ", got " + std::to_string(len));
  if (leeway < 0) raise("expected leeway >= 0");
  if (n <= len + leeway) return Value::from_string(s);
  std::string head;
  for (std::int64_t i = 0; i < len - end_n; ++i) head += cps[i];
  if (killwords) return Value::from_string(head + end);
  std::size_t sp = head.rfind(' ');
  if (sp != std::string::npos) head = head.substr(0, sp);
  return Value::from_string(head + end);
}

Value f_unique(Interpreter& in, const Value& v, CallArgs& a) {
  bool case_sensitive = flag(a, 0, "case_sensitive");
  const Value* attribute = find_arg(a, 1, "attribute");
  List out, seen;
  for (const Value& item : in.iterate(v)) {
    Value key = sort_key(attribute && !attribute->is_none() ? get_path(in, item, to_str(*attribute)) : item, case_sensitive);
    bool dup = false;
    for (const Value& s : seen)
      if (equal(s, key)) dup = true;
    if (!dup) {
      seen.push_back(key);
      out.push_back(item);
    }
  }
  return Value::iterator(std::move(out), "generator");
}

Value f_wordcount(Interpreter&, const Value& v, CallArgs&) {
  // Counts runs of word characters (\w: letters, digits, underscore).
  std::int64_t n = 0;
  bool in_word = false;
  for (auto cp : code_points(soft_str(v))) {
    char32_t c = decode(cp);
    bool w = c == '_' || (c < 128 ? std::isalnum(static_cast<int>(c)) != 0 : !is_python_space(cp));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::from_int(n);
}

const std::map<std::string, Filter, std::less<>>& table() {
  static const std::map<std::string, Filter, std::less<>> t = {
      {"abs", f_abs},         {"attr", f_attr},         {"batch", f_batch},       {"capitalize", f_capitalize},
      {"center", f_center},   {"count", f_length},      {"d", f_default},         {"default", f_default},
      {"dictsort", f_dictsort}, {"e", f_escape},        {"escape", f_escape},     {"first", f_first},
      {"float", f_float},     {"forceescape", f_forceescape}, {"format", f_format},    {"indent", f_indent},
      {"int", f_int},         {"items", f_items},       {"join", f_join},         {"last", f_last},
      {"length", f_length},   {"list", f_list},         {"lower", f_lower},       {"map", f_map},
      {"max", f_max},         {"min", f_min},           {"reject", f_reject},     {"rejectattr", f_rejectattr},
      {"replace", f_replace}, {"reverse", f_reverse},   {"round", f_round},       {"safe", f_safe},
      {"select", f_select},   {"selectattr", f_selectattr}, {"sort", f_sort},     {"string", f_string},
      {"striptags", f_striptags}, {"sum", f_sum},       {"title", f_title},       {"tojson", f_tojson},
      {"trim", f_trim},       {"truncate", f_truncate}, {"unique", f_unique},     {"upper", f_upper},
      {"wordcount", f_wordcount},
  };
  return t;
}

}  // namespace

bool has_filter(const std::string& name) { return table().count(name) > 0; }

Value call_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args) {
  auto it = table().find(name);
  if (it == table().end()) raise("No filter named '" + name + "'.");
  return it->second(in, operand, args);
}

}  // namespace finch::tokenizer::jinja
