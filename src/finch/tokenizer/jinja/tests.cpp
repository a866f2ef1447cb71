// jinja2's tests (`x is defined`, `x is string`, ...), jinja2/tests.py.
#include <algorithm>
#include <cmath>

#include "finch/tokenizer/jinja/interpreter.h"
#include "finch/tokenizer/jinja/text.h"

namespace finch::tokenizer::jinja {
namespace {

constexpr std::string_view kTests[] = {
    "defined", "undefined", "none", "boolean", "false", "true", "integer", "float", "number", "string",
    "mapping", "iterable", "sequence", "callable", "sameas", "escaped", "odd", "even", "divisibleby",
    "lower", "upper", "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt",
    "greaterthan", ">", "ge", ">=", "in", "filter", "test"};

const Value& need(CallArgs& a, std::size_t i, const std::string& test) {
  if (i >= a.positional.size()) raise("test '" + test + "' expects an argument");
  return a.positional[i];
}

}  // namespace

bool has_test(const std::string& name) {
  return std::find(std::begin(kTests), std::end(kTests), name) != std::end(kTests);
}

bool call_test(Interpreter& in, const std::string& name, const Value& v, CallArgs& a) {
  using K = Value::Kind;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == K::Bool;
  if (name == "false") return v.kind == K::Bool && !v.boolean;
  if (name == "true") return v.kind == K::Bool && v.boolean;
  if (name == "integer") return v.kind == K::Int;
  if (name == "float") return v.kind == K::Float;
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.kind == K::Dict;
  // Undefined iterates as empty and has a length, so it is iterable and a sequence.
  if (name == "iterable") return v.is_undefined() || v.is_string() || v.is_sequence() || v.kind == K::Dict;
  if (name == "sequence") return v.is_undefined() || v.is_string() || (v.is_sequence() && !v.iter_kind) || v.kind == K::Dict;
  if (name == "callable") return v.kind == K::Callable;
  if (name == "escaped") return false;
  if (name == "sameas") {
    const Value& o = need(a, 0, name);
    if (v.kind != o.kind) return false;
    switch (v.kind) {
      case K::List:
      case K::Tuple: return v.list == o.list;
      case K::Dict: return v.dict == o.dict;
      default: return equal(v, o);
    }
  }
  if (name == "odd" || name == "even" || name == "divisibleby") {
    // jinja2: value % 2 == 1, value % 2 == 0, value % num == 0, with Python's %.
    if (v.is_undefined()) raise(v.text);
    if (!v.is_number()) raise("not all arguments converted during string formatting");
    Value divisor = name == "divisibleby" ? need(a, 0, name) : Value::from_int(2);
    if (!divisor.is_number()) raise("unsupported operand type(s) for %: '" + type_name(v) + "' and '" + type_name(divisor) + "'");
    if (divisor.as_float() == 0) raise("integer division or modulo by zero");
    double m;
    if (v.is_integral() && divisor.is_integral()) {
      std::int64_t r = v.as_int() % divisor.as_int();
      if (r != 0 && ((r < 0) != (divisor.as_int() < 0))) r += divisor.as_int();
      m = static_cast<double>(r);
    } else {
      m = std::fmod(v.as_float(), divisor.as_float());
      if (m != 0 && ((m < 0) != (divisor.as_float() < 0))) m += divisor.as_float();
    }
    return name == "odd" ? m == 1 : m == 0;
  }
  if (name == "lower" || name == "upper") {
    std::string s = to_str(v);
    std::string other = name == "upper" ? to_lower(s) : to_upper(s);
    std::string same = name == "upper" ? to_upper(s) : to_lower(s);
    return same == s && other != s;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equal(v, need(a, 0, name));
  if (name == "ne" || name == "!=") return !equal(v, need(a, 0, name));
  if (name == "lt" || name == "lessthan" || name == "<") return less(v, need(a, 0, name));
  if (name == "le" || name == "<=") return less(v, need(a, 0, name)) || equal(v, need(a, 0, name));
  if (name == "gt" || name == "greaterthan" || name == ">") return less(need(a, 0, name), v);
  if (name == "ge" || name == ">=") return less(need(a, 0, name), v) || equal(v, need(a, 0, name));
  if (name == "in") {
    const Value& seq = need(a, 0, name);
    if (seq.is_string()) {
      if (!v.is_string()) raise("'in <string>' requires string as left operand, not " + type_name(v));
      return seq.text.find(v.text) != std::string::npos;
    }
    if (seq.kind == K::Dict) return v.is_string() && seq.dict->find(v.text);
    for (const Value& item : in.iterate(seq))
      if (equal(item, v)) return true;
    return false;
  }
  if (name == "filter") return v.is_string() && has_filter(v.text);
  if (name == "test") return v.is_string() && has_test(v.text);
  raise("No test named '" + name + "'.");
}

}  // namespace finch::tokenizer::jinja
