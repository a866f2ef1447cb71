// Expressions, with Python's operators and jinja2's sandboxed attribute and
// item lookup: `a.b` tries the attribute (a method) before the item, `a['b']`
// the item before the attribute; a missing one is Undefined, and using an
// Undefined beyond printing, testing or iterating it is an error.
#include <algorithm>
#include <cmath>
#include <optional>
#include <limits>

#include "finch/tokenizer/jinja/interpreter.h"
#include "finch/tokenizer/jinja/text.h"

namespace finch::tokenizer::jinja {
namespace {

[[noreturn]] void fail_undefined(const Value& v) {
  raise(v.text.empty() ? "value is undefined" : v.text);
}

template <typename Op>
Value checked(Op op, std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (op(a, b, &r)) raise("integer overflow");
  return Value::from_int(r);
}
bool add(std::int64_t a, std::int64_t b, std::int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool sub(std::int64_t a, std::int64_t b, std::int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool mul(std::int64_t a, std::int64_t b, std::int64_t* r) { return __builtin_mul_overflow(a, b, r); }

// Python's index normalisation for one item; -1 when out of range.
std::int64_t normalise_index(std::int64_t i, std::size_t size) {
  auto n = static_cast<std::int64_t>(size);
  if (i < 0) i += n;
  return i < 0 || i >= n ? -1 : i;
}

}  // namespace

Value Interpreter::lookup(const std::string& name) {
  if (const Value* v = scope_->find(name)) return *v;
  auto it = globals_.find(name);
  if (it != globals_.end()) return it->second;
  return Value::undefined("'" + name + "' is undefined");
}

Value Interpreter::getattr(const Value& obj, const std::string& name) {
  switch (obj.kind) {
    case Value::Kind::Undefined: fail_undefined(obj);
    case Value::Kind::Dict: {
      Value m = bound_method(obj, name);
      if (!m.is_undefined() || m.unsafe) return m;
      if (const Value* v = obj.dict->find(name)) return *v;
      return Value::undefined("'dict object' has no attribute '" + name + "'");
    }
    case Value::Kind::Namespace: {
      if (const Value* v = obj.ns->attributes.find(name)) return *v;
      return Value::undefined("'Namespace object' has no attribute '" + name + "'");
    }
    default: {
      Value m = bound_method(obj, name);
      if (!m.is_undefined() || m.unsafe) return m;
      return Value::undefined("'" + type_name(obj) + " object' has no attribute '" + name + "'");
    }
  }
}

Value Interpreter::getitem(const Value& obj, const Value& key) {
  switch (obj.kind) {
    case Value::Kind::Undefined: fail_undefined(obj);
    case Value::Kind::Dict:
      if (const Value* v = obj.dict->find(key)) return *v;
      if (key.is_string()) return getattr(obj, key.text);
      return Value::undefined("'dict object' has no element " + repr(key));
    case Value::Kind::List:
    case Value::Kind::Tuple:
    case Value::Kind::String:
      if (obj.iter_kind) return Value::undefined("'" + std::string(obj.iter_kind) + "' object is not subscriptable");
      if (key.is_integral()) {
        if (obj.is_string()) {
          auto cps = code_points(obj.text);
          std::int64_t i = normalise_index(key.as_int(), cps.size());
          if (i >= 0) return Value::from_string(std::string(cps[i]));
        } else {
          std::int64_t i = normalise_index(key.as_int(), obj.list->size());
          if (i >= 0) return (*obj.list)[i];
        }
        return Value::undefined("'" + type_name(obj) + " object' has no element " + repr(key));
      }
      if (key.is_string()) return getattr(obj, key.text);
      if (key.kind == Value::Kind::Float || key.is_none())
        raise(type_name(obj) + " indices must be integers or slices, not " + type_name(key));
      return Value::undefined("'" + type_name(obj) + " object' has no element " + repr(key));
    default:
      if (key.is_string()) return getattr(obj, key.text);
      return Value::undefined("'" + type_name(obj) + " object' has no element " + repr(key));
  }
}

List Interpreter::iterate(const Value& v) {
  switch (v.kind) {
    case Value::Kind::Undefined: return {};
    case Value::Kind::List:
    case Value::Kind::Tuple: return *v.list;
    case Value::Kind::Dict: {
      List keys;
      for (const auto& [k, _] : v.dict->items) keys.push_back(k);
      return keys;
    }
    case Value::Kind::String: {
      List chars;
      for (auto cp : code_points(v.text)) chars.push_back(Value::from_string(std::string(cp)));
      return chars;
    }
    default: raise("'" + type_name(v) + "' object is not iterable");
  }
}

Value Interpreter::call(const Value& callee, CallArgs& args) {
  if (callee.is_undefined()) {
    if (callee.unsafe) raise(callee.text);
    fail_undefined(callee);
  }
  if (callee.kind != Value::Kind::Callable) raise("'" + type_name(callee) + "' object is not callable");
  return callee.callable->fn(*this, args);
}

Value Interpreter::apply_filter(const std::string& name, const Value& operand, CallArgs& args) {
  return call_filter(*this, name, operand, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& operand, CallArgs& args) {
  return call_test(*this, name, operand, args);
}

CallArgs Interpreter::eval_args(const Expr& e, std::size_t first) {
  CallArgs args;
  for (std::size_t i = first; i < e.args.size(); ++i) args.positional.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) args.keyword.emplace_back(k, eval(*v));
  return args;
}

Value Interpreter::eval(const Expr& e) {
  try {
    return eval_inner(e);
  } catch (EvalError& err) {
    if (!err.located)
      throw EvalError(name_ + ":" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": " + err.what(), true);
    throw;
  }
}

Value Interpreter::eval_inner(const Expr& e) {
  using K = Expr::Kind;
  switch (e.kind) {
    case K::Literal: return e.literal;
    case K::Name: return lookup(e.name);
    case K::Attr: return getattr(eval(*e.args[0]), e.name);
    case K::Item: {
      Value obj = eval(*e.args[0]);
      return getitem(obj, eval(*e.args[1]));
    }
    case K::Slice: return eval_slice(e);
    case K::Call: {
      Value callee = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      return call(callee, args);
    }
    case K::Filter: {
      Value operand;
      if (e.args[0]) {
        operand = eval(*e.args[0]);
      } else {
        operand = *block_operand_;
      }
      CallArgs args = eval_args(e, 1);
      return apply_filter(e.name, operand, args);
    }
    case K::Test: {
      Value operand = eval(*e.args[0]);
      CallArgs args = eval_args(e, 1);
      bool r = apply_test(e.name, operand, args);
      return Value::from_bool(e.negated ? !r : r);
    }
    case K::Neg:
    case K::Pos: {
      Value v = eval(*e.args[0]);
      if (v.is_undefined()) fail_undefined(v);
      if (!v.is_number())
        raise(std::string("bad operand type for unary ") + (e.kind == K::Neg ? "-" : "+") + ": '" + type_name(v) + "'");
      if (e.kind == K::Pos) return v.kind == Value::Kind::Bool ? Value::from_int(v.as_int()) : v;
      if (v.kind == Value::Kind::Float) return Value::from_float(-v.real);
      if (v.as_int() == std::numeric_limits<std::int64_t>::min()) raise("integer overflow");
      return Value::from_int(-v.as_int());
    }
    case K::Not: return Value::from_bool(!truthy(eval(*e.args[0])));
    case K::Binary: {
      Value a = eval(*e.args[0]);
      Value b = eval(*e.args[1]);
      return eval_binary(e.name, a, b);
    }
    case K::Concat: {
      std::string s;
      for (const auto& part : e.args) {
        s += to_str(eval(*part));
        check_size(s.size());
      }
      return Value::from_string(std::move(s));
    }
    case K::And: {
      Value a = eval(*e.args[0]);
      return truthy(a) ? eval(*e.args[1]) : a;
    }
    case K::Or: {
      Value a = eval(*e.args[0]);
      return truthy(a) ? a : eval(*e.args[1]);
    }
    case K::Compare: {
      Value left = eval(*e.args[0]);
      for (std::size_t i = 0; i < e.ops.size(); ++i) {
        Value right = eval(*e.args[i + 1]);
        if (!compare(e.ops[i], left, right)) return Value::from_bool(false);
        left = std::move(right);
      }
      return Value::from_bool(true);
    }
    case K::CondExpr:
      if (truthy(eval(*e.args[0]))) return eval(*e.args[1]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
    case K::List:
    case K::Tuple: {
      List items;
      for (const auto& a : e.args) items.push_back(eval(*a));
      return e.kind == K::List ? Value::from_list(std::move(items)) : Value::from_tuple(std::move(items));
    }
    case K::Dict: {
      Dict d;
      for (std::size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i]);
        if (!k.is_string() && !k.is_number() && !k.is_none()) raise("unhashable type: '" + type_name(k) + "'");
        d.set(k, eval(*e.args[i + 1]));
      }
      return Value::from_dict(std::move(d));
    }
  }
  raise("unknown expression");
}

Value Interpreter::eval_slice(const Expr& e) {
  Value obj = eval(*e.args[0]);
  auto part = [&](int i) -> std::optional<std::int64_t> {
    if (!e.args[i]) return std::nullopt;
    Value v = eval(*e.args[i]);
    if (v.is_none()) return std::nullopt;
    if (!v.is_integral()) raise("slice indices must be integers or None");
    return v.as_int();
  };
  auto start = part(1), stop = part(2), step_opt = part(3);
  std::int64_t step = step_opt.value_or(1);
  if (step == 0) raise("slice step cannot be zero");
  if (obj.is_undefined()) fail_undefined(obj);
  std::vector<std::string_view> cps;
  std::size_t size;
  if (obj.is_string()) {
    cps = code_points(obj.text);
    size = cps.size();
  } else if (obj.is_sequence() && !obj.iter_kind) {
    size = obj.list->size();
  } else if (obj.iter_kind) {
    return Value::undefined("'" + std::string(obj.iter_kind) + "' object is not subscriptable");
  } else {
    raise("'" + type_name(obj) + "' object is not subscriptable");
  }
  // Python's slice.indices().
  auto n = static_cast<std::int64_t>(size);
  auto clamp = [&](std::optional<std::int64_t> v, std::int64_t dflt) {
    if (!v) return dflt;
    std::int64_t x = *v;
    if (x < 0) x += n;
    if (step > 0) return std::clamp<std::int64_t>(x, 0, n);
    return std::clamp<std::int64_t>(x, -1, n - 1);
  };
  std::int64_t b = clamp(start, step > 0 ? 0 : n - 1);
  std::int64_t en = clamp(stop, step > 0 ? n : -1);
  std::vector<std::int64_t> idx;
  for (std::int64_t i = b; step > 0 ? i < en : i > en; i += step) idx.push_back(i);
  if (obj.is_string()) {
    std::string s;
    for (auto i : idx) s += cps[i];
    return Value::from_string(std::move(s));
  }
  List items;
  for (auto i : idx) items.push_back((*obj.list)[i]);
  return obj.kind == Value::Kind::Tuple ? Value::from_tuple(std::move(items)) : Value::from_list(std::move(items));
}

bool Interpreter::compare(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return equal(a, b);
  if (op == "!=") return !equal(a, b);
  if (op == "<") return less(a, b);
  if (op == ">") return less(b, a);
  if (op == "<=") return less(a, b) || equal(a, b);
  if (op == ">=") return less(b, a) || equal(a, b);
  bool negate = op == "notin";
  bool found = false;
  switch (b.kind) {
    case Value::Kind::Undefined: found = false; break;
    case Value::Kind::String:
      if (!a.is_string()) raise("'in <string>' requires string as left operand, not " + type_name(a));
      found = b.text.find(a.text) != std::string::npos;
      break;
    case Value::Kind::List:
    case Value::Kind::Tuple:
      for (const Value& item : *b.list)
        if (equal(a, item)) {
          found = true;
          break;
        }
      break;
    case Value::Kind::Dict:
      if (a.kind == Value::Kind::List || a.kind == Value::Kind::Dict || a.kind == Value::Kind::Namespace)
        raise("unhashable type: '" + type_name(a) + "'");
      found = b.dict->find(a) != nullptr;
      break;
    default: raise("argument of type '" + type_name(b) + "' is not iterable");
  }
  return negate ? !found : found;
}

Value Interpreter::eval_binary(const std::string& op, const Value& a, const Value& b) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  auto unsupported = [&]() -> Value {
    raise("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
  };
  const bool ints = a.is_integral() && b.is_integral();
  const bool nums = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) return checked(add, a.as_int(), b.as_int());
    if (nums) return Value::from_float(a.as_float() + b.as_float());
    if (a.is_string() && b.is_string()) {
      check_size(a.text.size() + b.text.size());
      if (a.markup == b.markup) {
        Value r = Value::from_string(a.text + b.text);
        r.markup = a.markup;
        return r;
      }
      // Markup + str escapes the plain side (markupsafe), as `"x"|safe + json` does.
      Value r = Value::from_string(a.markup ? a.text + html_escape(b.text) : html_escape(a.text) + b.text);
      r.markup = true;
      return r;
    }
    if (a.is_sequence() && a.kind == b.kind && !a.iter_kind && !b.iter_kind) {
      check_size((a.list->size() + b.list->size()) * sizeof(Value));
      List items = *a.list;
      items.insert(items.end(), b.list->begin(), b.list->end());
      return a.kind == Value::Kind::Tuple ? Value::from_tuple(std::move(items)) : Value::from_list(std::move(items));
    }
    if (a.is_string()) raise("can only concatenate str (not \"" + type_name(b) + "\") to str");
    if (a.kind == Value::Kind::List) raise("can only concatenate list (not \"" + type_name(b) + "\") to list");
    return unsupported();
  }
  if (op == "-") {
    if (ints) return checked(sub, a.as_int(), b.as_int());
    if (nums) return Value::from_float(a.as_float() - b.as_float());
    return unsupported();
  }
  if (op == "*") {
    if (ints) return checked(mul, a.as_int(), b.as_int());
    if (nums) return Value::from_float(a.as_float() * b.as_float());
    const Value* seq = a.is_integral() ? &b : &a;
    const Value* count = a.is_integral() ? &a : &b;
    if (count->is_integral() && (seq->is_string() || (seq->is_sequence() && !seq->iter_kind))) {
      std::int64_t n = std::max<std::int64_t>(0, count->as_int());
      std::size_t unit = seq->is_string() ? seq->text.size() : seq->list->size() * sizeof(Value);
      if (unit && static_cast<std::uint64_t>(n) > limits_.max_output_bytes / unit + 1) check_size(limits_.max_output_bytes + 1);
      check_size(unit * static_cast<std::size_t>(n));
      if (seq->is_string()) {
        std::string s;
        for (std::int64_t i = 0; i < n; ++i) s += seq->text;
        return Value::from_string(std::move(s));
      }
      List items;
      for (std::int64_t i = 0; i < n; ++i) items.insert(items.end(), seq->list->begin(), seq->list->end());
      return seq->kind == Value::Kind::Tuple ? Value::from_tuple(std::move(items)) : Value::from_list(std::move(items));
    }
    return unsupported();
  }
  if (op == "/") {
    if (!nums) return unsupported();
    if (b.as_float() == 0) raise("division by zero");
    return Value::from_float(a.as_float() / b.as_float());
  }
  if (op == "//") {
    if (!nums) return unsupported();
    if (ints) {
      if (b.as_int() == 0) raise("integer division or modulo by zero");
      if (b.as_int() == -1 && a.as_int() == std::numeric_limits<std::int64_t>::min()) raise("integer overflow");
      std::int64_t q = a.as_int() / b.as_int();
      if ((a.as_int() % b.as_int() != 0) && ((a.as_int() < 0) != (b.as_int() < 0))) --q;
      return Value::from_int(q);
    }
    if (b.as_float() == 0) raise("float floor division by zero");
    return Value::from_float(std::floor(a.as_float() / b.as_float()));
  }
  if (op == "%") {
    if (a.is_string()) return Value::from_string(percent_format(*this, a.text, b));
    if (!nums) return unsupported();
    if (ints) {
      if (b.as_int() == 0) raise("integer division or modulo by zero");
      if (b.as_int() == -1) return Value::from_int(0);
      std::int64_t m = a.as_int() % b.as_int();
      if (m != 0 && ((m < 0) != (b.as_int() < 0))) m += b.as_int();
      return Value::from_int(m);
    }
    if (b.as_float() == 0) raise("float modulo");
    double m = std::fmod(a.as_float(), b.as_float());
    if (m != 0 && ((m < 0) != (b.as_float() < 0))) m += b.as_float();
    return Value::from_float(m);
  }
  if (op == "**") {
    if (!nums) return unsupported();
    if (ints && b.as_int() >= 0) {
      // Squaring keeps huge exponents fast; only |base| <= 1 avoids overflow for them.
      std::int64_t base = a.as_int(), result = 1;
      for (std::int64_t e = b.as_int(); e > 0; e >>= 1) {
        if ((e & 1) && __builtin_mul_overflow(result, base, &result)) raise("integer overflow");
        if (e > 1 && __builtin_mul_overflow(base, base, &base)) raise("integer overflow");
      }
      return Value::from_int(result);
    }
    return Value::from_float(std::pow(a.as_float(), b.as_float()));
  }
  return unsupported();
}

}  // namespace finch::tokenizer::jinja
