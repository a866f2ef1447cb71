// Values of the Jinja interpreter: the Python objects a chat template sees
// (None, bool, int, float, str, list, tuple, dict, namespace, callables) and
// jinja2's Undefined. They follow Python's rules for truth, equality, order
// and str()/repr(), because transformers renders templates with Python.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finch::tokenizer::jinja {

// A runtime error from a template (a TemplateError, TypeError, UndefinedError
// or SecurityError in jinja2). The interpreter prefixes the position of the
// innermost expression or statement it passes through; render() turns it
// into a finch::Error.
struct EvalError : std::runtime_error {
  explicit EvalError(const std::string& what, bool located = false)
      : std::runtime_error(what), located(located) {}
  bool located;
};
[[noreturn]] void raise(const std::string& message);

inline constexpr std::uint32_t kMaxValueNesting = 500;

struct Value;
struct Dict;
struct Namespace;
struct Callable;
class Interpreter;
using List = std::vector<Value>;

// Arguments of a call: positional first, then keyword ones in source order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

struct Value {
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Tuple, Dict, Namespace, Callable };

  Kind kind = Kind::Undefined;
  bool boolean = false;
  std::int64_t integer = 0;
  double real = 0.0;
  std::string text;                // String; for Undefined: why it is undefined
  bool unsafe = false;             // Undefined from a refused attribute: using it is a SecurityError
  bool markup = false;             // String marked safe (markupsafe.Markup): `+` escapes the other side
  // How deeply lists and dicts nest inside this one. Bounded (kMaxNesting) so
  // that printing, comparing and freeing a value cannot exhaust the stack.
  std::uint32_t nesting = 0;
  // A List that Python would hold as a lazy iterator ("generator" from map,
  // select, unique, ...; "list_reverseiterator") or a dict view ("dict_keys",
  // "dict_values", "dict_items"). Iterators are always true, have no len()
  // and print as <... object>; views print as dict_keys([...]); neither can
  // be subscripted or serialised.
  const char* iter_kind = nullptr;
  bool is_iterator() const { return iter_kind && std::string_view(iter_kind).substr(0, 5) != "dict_"; }
  std::shared_ptr<const List> list;  // List, Tuple: immutable in the sandbox, so shared
  std::shared_ptr<const Dict> dict;
  std::shared_ptr<Namespace> ns;     // the one mutable object templates have
  std::shared_ptr<const Callable> callable;

  static Value undefined(std::string why = {});
  static Value none();
  static Value from_bool(bool b);
  static Value from_int(std::int64_t i);
  static Value from_float(double d);
  static Value from_string(std::string s);
  static Value from_list(List items);
  static Value from_tuple(List items);
  static Value from_dict(Dict d);
  static Value iterator(List items, const char* kind);
  static Value from_callable(std::string name, std::function<Value(Interpreter&, CallArgs&)> fn);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_sequence() const { return kind == Kind::List || kind == Kind::Tuple; }
  // Python's numbers: bool is an int.
  bool is_number() const { return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float; }
  bool is_integral() const { return kind == Kind::Bool || kind == Kind::Int; }
  std::int64_t as_int() const { return kind == Kind::Bool ? (boolean ? 1 : 0) : integer; }
  double as_float() const { return kind == Kind::Float ? real : static_cast<double>(as_int()); }
};

// A Python dict in insertion order. Keys are str (all of JSON) or, from
// template literals, int/float/bool/None.
struct Dict {
  std::vector<std::pair<Value, Value>> items;
  const Value* find(std::string_view key) const;
  const Value* find(const Value& key) const;
  void set(std::string key, Value value);
  void set(Value key, Value value);
};

struct Namespace {
  Dict attributes;
};

struct Callable {
  std::string name;
  std::function<Value(Interpreter&, CallArgs&)> fn;
};

// Python's type name, for messages ("str", "list", "dict", ...).
std::string type_name(const Value& v);
bool truthy(const Value& v);
// Python ==, with 1 == 1.0 == True.
bool equal(const Value& a, const Value& b);
// Python's <; throws finch::Error (via the message) for unorderable types.
bool less(const Value& a, const Value& b);
// str() and repr() as Python prints them.
std::string to_str(const Value& v);
std::string repr(const Value& v);
std::string float_repr(double d);
std::string string_repr(std::string_view s);

// Strings are UTF-8; Python indexes code points.
std::vector<std::string_view> code_points(std::string_view s);
std::size_t code_point_count(std::string_view s);

// A lookup key written as text (jinja2's attribute paths "a.0", str.format's
// "{0[1]}"): an int when it is all digits, as Python's int(), else a string.
Value key_from_text(const std::string& text);

}  // namespace finch::tokenizer::jinja
