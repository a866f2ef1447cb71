// Methods of str, dict and list that templates call (`content.strip()`,
// `message.get('x')`), and the globals transformers defines. Mutating
// methods are refused as ImmutableSandboxedEnvironment refuses them.
#include <utf8proc.h>

#include <chrono>
#include <ctime>

#include "finch/tokenizer/jinja/interpreter.h"
#include "finch/tokenizer/jinja/lexer.h"
#include "finch/tokenizer/jinja/text.h"

namespace finch::tokenizer::jinja {

const Value* find_arg(CallArgs& args, std::size_t index, std::string_view name) {
  if (index < args.positional.size()) return &args.positional[index];
  for (auto& [k, v] : args.keyword)
    if (k == name) return &v;
  return nullptr;
}

void check_args(const CallArgs& args, std::string_view fn, std::size_t max_positional,
                std::initializer_list<std::string_view> keywords) {
  if (args.positional.size() > max_positional)
    raise(std::string(fn) + "() takes at most " + std::to_string(max_positional) + " positional argument(s) (" +
          std::to_string(args.positional.size()) + " given)");
  for (const auto& [k, _] : args.keyword)
    if (std::find(keywords.begin(), keywords.end(), k) == keywords.end())
      raise(std::string(fn) + "() got an unexpected keyword argument '" + k + "'");
}

namespace {

using Fn = std::function<Value(Interpreter&, CallArgs&)>;

Value method(const std::string& name, Fn fn) { return Value::from_callable(name, std::move(fn)); }

const std::string* opt_string(CallArgs& a, std::size_t i, std::string_view name, std::string_view fn) {
  const Value* v = find_arg(a, i, name);
  if (!v || v->is_none()) return nullptr;
  if (!v->is_string()) raise(std::string(fn) + " arg must be None or str");
  return &v->text;
}

long long opt_int(CallArgs& a, std::size_t i, std::string_view name, long long dflt) {
  const Value* v = find_arg(a, i, name);
  if (!v) return dflt;
  if (!v->is_integral()) raise("'" + type_name(*v) + "' object cannot be interpreted as an integer");
  return v->as_int();
}

const std::string& need_string(CallArgs& a, std::size_t i, std::string_view name, std::string_view fn) {
  const Value* v = find_arg(a, i, name);
  if (!v) raise(std::string(fn) + "() missing required argument '" + std::string(name) + "'");
  if (!v->is_string()) raise(std::string(fn) + "() argument must be str, not " + type_name(*v));
  return v->text;
}

Value string_list(std::vector<std::string> parts) {
  List out;
  for (auto& p : parts) out.push_back(Value::from_string(std::move(p)));
  return Value::from_list(std::move(out));
}

// startswith / endswith accept a str or a tuple of str.
bool affix_match(const Value& s, const Value& affix, bool prefix) {
  auto one = [&](const Value& a) {
    if (!a.is_string()) raise(std::string(prefix ? "startswith" : "endswith") + " first arg must be str or a tuple of str, not " + type_name(a));
    if (a.text.size() > s.text.size()) return false;
    return prefix ? s.text.compare(0, a.text.size(), a.text) == 0
                  : s.text.compare(s.text.size() - a.text.size(), a.text.size(), a.text) == 0;
  };
  if (affix.kind == Value::Kind::Tuple) {
    for (const Value& a : *affix.list)
      if (one(a)) return true;
    return false;
  }
  return one(affix);
}

Value string_method(const Value& obj, const std::string& name) {
  const std::string s = obj.text;
  if (name == "strip" || name == "lstrip" || name == "rstrip")
    return method(name, [s, name](Interpreter&, CallArgs& a) {
      check_args(a, name, 1, {});
      return Value::from_string(strip_chars(s, opt_string(a, 0, "chars", name), name != "rstrip", name != "lstrip"));
    });
  if (name == "split" || name == "rsplit")
    return method(name, [s, name](Interpreter&, CallArgs& a) {
      check_args(a, name, 2, {"sep", "maxsplit"});
      const std::string* sep = opt_string(a, 0, "sep", name);
      long long maxsplit = opt_int(a, 1, "maxsplit", -1);
      return string_list(name == "split" ? split(s, sep, maxsplit) : rsplit(s, sep, maxsplit));
    });
  if (name == "splitlines")
    return method(name, [s](Interpreter&, CallArgs& a) {
      const Value* keep = find_arg(a, 0, "keepends");
      return string_list(splitlines(s, keep && truthy(*keep)));
    });
  if (name == "startswith" || name == "endswith")
    return method(name, [obj, name](Interpreter&, CallArgs& a) {
      check_args(a, name, 1, {});
      const Value* affix = find_arg(a, 0, "prefix");
      if (!affix) raise(name + "() takes at least 1 argument (0 given)");
      return Value::from_bool(affix_match(obj, *affix, name == "startswith"));
    });
  if (name == "replace")
    return method(name, [s](Interpreter& in, CallArgs& a) {
      check_args(a, "replace", 3, {"count"});
      const std::string& old = need_string(a, 0, "old", "replace");
      const std::string& with = need_string(a, 1, "new", "replace");
      std::string r = replace_all(s, old, with, opt_int(a, 2, "count", -1));
      in.check_size(r.size());
      return Value::from_string(std::move(r));
    });
  if (name == "upper") return method(name, [s](Interpreter&, CallArgs&) { return Value::from_string(to_upper(s)); });
  if (name == "lower") return method(name, [s](Interpreter&, CallArgs&) { return Value::from_string(to_lower(s)); });
  if (name == "title") return method(name, [s](Interpreter&, CallArgs&) { return Value::from_string(py_title(s)); });
  if (name == "capitalize")
    return method(name, [s](Interpreter&, CallArgs&) { return Value::from_string(capitalize(s)); });
  if (name == "format")
    return method(name, [s](Interpreter& in, CallArgs& a) { return Value::from_string(str_format(in, s, a)); });
  if (name == "join")
    return method(name, [s](Interpreter& in, CallArgs& a) {
      check_args(a, "join", 1, {});
      if (a.positional.empty()) raise("join() takes exactly one argument (0 given)");
      std::string out;
      bool first = true;
      for (const Value& item : in.iterate(a.positional[0])) {
        if (!item.is_string()) raise("sequence item: expected str instance, " + type_name(item) + " found");
        if (!first) out += s;
        first = false;
        out += item.text;
        in.check_size(out.size());
      }
      return Value::from_string(std::move(out));
    });
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count")
    return method(name, [s, name](Interpreter&, CallArgs& a) {
      check_args(a, name, 1, {});
      const std::string& sub = need_string(a, 0, "sub", name);
      if (name == "count") {
        if (sub.empty()) return Value::from_int(static_cast<std::int64_t>(code_point_count(s) + 1));
        std::int64_t n = 0;
        for (std::size_t at = s.find(sub); at != std::string::npos; at = s.find(sub, at + sub.size())) ++n;
        return Value::from_int(n);
      }
      std::size_t at = name[0] == 'r' ? s.rfind(sub) : s.find(sub);
      if (at == std::string::npos) {
        if (name == "index" || name == "rindex") raise("substring not found");
        return Value::from_int(-1);
      }
      return Value::from_int(static_cast<std::int64_t>(code_point_count(s.substr(0, at))));
    });
  if (name == "removeprefix" || name == "removesuffix")
    return method(name, [obj, name](Interpreter&, CallArgs& a) {
      const std::string& affix = need_string(a, 0, "affix", name);
      Value av = Value::from_string(affix);
      if (!affix.empty() && affix_match(obj, av, name == "removeprefix"))
        return Value::from_string(name == "removeprefix" ? obj.text.substr(affix.size())
                                                         : obj.text.substr(0, obj.text.size() - affix.size()));
      return obj;
    });
  using Pred = bool (*)(char32_t);
  static const std::pair<std::string_view, Pred> kPredicates[] = {
      {"isdigit", [](char32_t c) { return utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND; }},
      {"isnumeric", [](char32_t c) { auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c)); return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO; }},
      {"isalpha", [](char32_t c) { auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c)); return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO; }},
      {"isspace", [](char32_t c) { return is_python_space(encode(c)); }},
  };
  for (const auto& [pname, pred] : kPredicates)
    if (name == pname)
      return method(name, [s, pred = pred](Interpreter&, CallArgs&) { return Value::from_bool(all_chars(s, pred)); });
  if (name == "isupper" || name == "islower")
    return method(name, [s, name](Interpreter&, CallArgs&) {
      std::string other = name == "isupper" ? to_lower(s) : to_upper(s);
      std::string same = name == "isupper" ? to_upper(s) : to_lower(s);
      return Value::from_bool(same == s && other != s);
    });
  return Value::undefined();
}

Value dict_method(const Value& obj, const std::string& name) {
  auto d = obj.dict;
  if (name == "items")
    return method(name, [d](Interpreter&, CallArgs&) {
      List out;
      for (const auto& [k, v] : d->items) out.push_back(Value::from_tuple({k, v}));
      return Value::iterator(std::move(out), "dict_items");
    });
  if (name == "keys")
    return method(name, [d](Interpreter&, CallArgs&) {
      List out;
      for (const auto& [k, _] : d->items) out.push_back(k);
      return Value::iterator(std::move(out), "dict_keys");
    });
  if (name == "values")
    return method(name, [d](Interpreter&, CallArgs&) {
      List out;
      for (const auto& [_, v] : d->items) out.push_back(v);
      return Value::iterator(std::move(out), "dict_values");
    });
  if (name == "get")
    return method(name, [d](Interpreter&, CallArgs& a) {
      if (a.positional.empty() || a.positional.size() > 2 || !a.keyword.empty())
        raise("get expected 1 or 2 positional arguments");
      const Value& key = a.positional[0];
      if (const Value* v = d->find(key)) return *v;
      return a.positional.size() > 1 ? a.positional[1] : Value::none();
    });
  if (name == "copy") return method(name, [obj](Interpreter&, CallArgs&) { return obj; });
  return Value::undefined();
}

Value list_method(const Value& obj, const std::string& name) {
  if (name == "index" || name == "count")
    return method(name, [obj, name](Interpreter&, CallArgs& a) {
      if (a.positional.size() != 1) raise(name + "() takes exactly one argument");
      std::int64_t n = 0;
      for (std::size_t i = 0; i < obj.list->size(); ++i)
        if (equal((*obj.list)[i], a.positional[0])) {
          if (name == "index") return Value::from_int(static_cast<std::int64_t>(i));
          ++n;
        }
      if (name == "index") raise(repr(a.positional[0]) + " is not in list");
      return Value::from_int(n);
    });
  if (name == "copy" && obj.kind == Value::Kind::List)
    return method(name, [obj](Interpreter&, CallArgs&) { return obj; });
  return Value::undefined();
}

bool is_mutating(const Value& obj, const std::string& name) {
  static const std::string_view kDict[] = {"clear", "pop", "popitem", "setdefault", "update"};
  static const std::string_view kList[] = {"append", "clear", "pop", "reverse", "insert", "sort", "extend", "remove"};
  if (obj.kind == Value::Kind::Dict) return std::find(std::begin(kDict), std::end(kDict), name) != std::end(kDict);
  if (obj.kind == Value::Kind::List) return std::find(std::begin(kList), std::end(kList), name) != std::end(kList);
  return false;
}

}  // namespace

Value bound_method(const Value& obj, const std::string& name) {
  if (!name.empty() && name[0] == '_' && obj.kind != Value::Kind::Dict) {
    Value u = Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.");
    u.unsafe = true;
    return u;
  }
  if (is_mutating(obj, name)) {
    Value u = Value::undefined("access to attribute '" + name + "' of '" + type_name(obj) + "' object is unsafe.");
    u.unsafe = true;
    return u;
  }
  switch (obj.kind) {
    case Value::Kind::String: return string_method(obj, name);
    case Value::Kind::Dict: return dict_method(obj, name);
    case Value::Kind::List:
    case Value::Kind::Tuple: return list_method(obj, name);
    default: return Value::undefined();
  }
}

void add_globals(std::unordered_map<std::string, Value>& g) {
  g["raise_exception"] = method("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
    const Value* msg = find_arg(a, 0, "message");
    raise(msg ? to_str(*msg) : std::string());
  });
  g["strftime_now"] = method("strftime_now", [](Interpreter&, CallArgs& a) {
    const Value* fmt = find_arg(a, 0, "format");
    if (!fmt || !fmt->is_string()) raise("strftime_now() expects a format string");
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm local{};
    localtime_r(&now, &local);
    char buf[512];
    std::size_t n = std::strftime(buf, sizeof buf, fmt->text.c_str(), &local);
    return Value::from_string(std::string(buf, n));
  });
  g["range"] = method("range", [](Interpreter& in, CallArgs& a) {
    if (a.positional.empty() || a.positional.size() > 3 || !a.keyword.empty())
      raise("range expected 1 to 3 integer arguments");
    for (const Value& v : a.positional)
      if (!v.is_integral()) raise("'" + type_name(v) + "' object cannot be interpreted as an integer");
    std::int64_t start = 0, stop, step = 1;
    if (a.positional.size() == 1) {
      stop = a.positional[0].as_int();
    } else {
      start = a.positional[0].as_int();
      stop = a.positional[1].as_int();
      if (a.positional.size() == 3) step = a.positional[2].as_int();
    }
    if (step == 0) raise("range() arg 3 must not be zero");
    long double count = step > 0 ? (static_cast<long double>(stop) - start) / step
                                 : (static_cast<long double>(start) - stop) / -step;
    if (count > 100000) raise("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
    List out;
    for (std::int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::from_int(i));
    in.count_iterations(0);
    return Value::from_list(std::move(out));
  });
  auto make_dict = [](CallArgs& a, std::string_view fn) {
    Dict d;
    if (a.positional.size() > 1) raise(std::string(fn) + " expected at most 1 positional argument");
    if (!a.positional.empty()) {
      const Value& src = a.positional[0];
      if (src.kind == Value::Kind::Dict) d = *src.dict;
      else if (src.kind == Value::Kind::Namespace) d = src.ns->attributes;
      else raise(std::string(fn) + ": cannot convert " + type_name(src) + " to a dict");
    }
    for (auto& [k, v] : a.keyword) d.set(k, v);
    return d;
  };
  g["dict"] = method("dict", [make_dict](Interpreter&, CallArgs& a) { return Value::from_dict(make_dict(a, "dict")); });
  g["namespace"] = method("namespace", [make_dict](Interpreter& in, CallArgs& a) {
    Dict d = make_dict(a, "namespace");
    for (const auto& [k, _] : d.items)
      if (k.is_string() && !k.text.empty() && k.text[0] == '_')
        raise("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" + k.text + "'.");
    Value v;
    v.kind = Value::Kind::Namespace;
    v.ns = std::make_shared<Namespace>(Namespace{std::move(d)});
    in.track(v.ns);
    return v;
  });
  g["joiner"] = method("joiner", [](Interpreter&, CallArgs& a) {
    const Value* sep = find_arg(a, 0, "sep");
    std::string text = sep ? to_str(*sep) : ", ";
    auto used = std::make_shared<bool>(false);
    return method("joiner", [text, used](Interpreter&, CallArgs&) {
      if (!*used) {
        *used = true;
        return Value::from_string("");
      }
      return Value::from_string(text);
    });
  });
}

}  // namespace finch::tokenizer::jinja
