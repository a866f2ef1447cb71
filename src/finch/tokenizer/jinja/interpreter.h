// Renders a parsed template. One Interpreter per render call: all render
// state lives here, so a ChatTemplate can render from many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "finch/tokenizer/jinja/ast.h"
#include "finch/tokenizer/jinja/limits.h"
#include "finch/tokenizer/jinja/value.h"

namespace finch::tokenizer::jinja {

struct Scope {
  std::vector<std::pair<std::string, Value>> vars;
  std::shared_ptr<Scope> parent;
  const Value* find(std::string_view name) const;
  void set(const std::string& name, Value value);
};

class Interpreter {
 public:
  Interpreter(const std::string& template_name, Limits limits);

  // Renders `body` with `context` (the template's variables) over the globals.
  std::string render(const Body& body, const Dict& context);

  // Used by filters, tests, methods and globals.
  Value getattr(const Value& obj, const std::string& name);
  Value getitem(const Value& obj, const Value& key);
  List iterate(const Value& v);
  Value call(const Value& callee, CallArgs& args);
  Value apply_filter(const std::string& name, const Value& operand, CallArgs& args);
  bool apply_test(const std::string& name, const Value& operand, CallArgs& args);
  void check_size(std::size_t bytes) const;
  void count_iterations(std::size_t n);
  // Namespaces can refer to themselves; render() empties them at the end so
  // that such cycles do not leak.
  void track(const std::shared_ptr<Namespace>& ns) { namespaces_.push_back(ns); }
  const Limits& limits() const { return limits_; }

 private:
  enum class Flow { Normal, Break, Continue };

  Flow exec(const Body& body);
  Flow exec(const Stmt& s);
  void exec_for(const Stmt& s);
  void exec_set(const Stmt& s);
  std::string capture(const Body& body, std::shared_ptr<Scope> scope);
  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  Value eval_binary(const std::string& op, const Value& a, const Value& b);
  bool compare(const std::string& op, const Value& a, const Value& b);
  Value eval_slice(const Expr& e);
  CallArgs eval_args(const Expr& e, std::size_t first);
  Value lookup(const std::string& name);
  void bind(const std::vector<std::string>& targets, const Value& value, Scope& scope);
  Value make_macro(const Stmt& m, std::shared_ptr<Scope> closure);
  Value call_macro(const Stmt& m, const std::shared_ptr<Scope>& closure, CallArgs& args);
  void emit(std::string_view text);

  std::string name_;
  Limits limits_;
  std::string* out_ = nullptr;
  std::shared_ptr<Scope> scope_;
  std::unordered_map<std::string, Value> globals_;
  const Value* block_operand_ = nullptr;  // the rendered body a {% filter %} / {% set %} block filters
  std::size_t iterations_ = 0;
  int call_depth_ = 0;
  std::vector<std::weak_ptr<Namespace>> namespaces_;
  std::vector<std::weak_ptr<Scope>> macro_scopes_;  // a scope holds its macros, which hold the scope
};

// Names of the filters and tests that exist (jinja2 rejects unknown ones when
// it compiles a template, even in branches that never run).
bool has_filter(const std::string& name);
bool has_test(const std::string& name);

// Builtins, split by kind (filters.cpp, tests.cpp, methods.cpp, globals.cpp).
Value call_filter(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
bool call_test(Interpreter& in, const std::string& name, const Value& operand, CallArgs& args);
// A method of a str, dict or list (`s.strip`), bound to `obj`; Undefined if it has none.
Value bound_method(const Value& obj, const std::string& name);
void add_globals(std::unordered_map<std::string, Value>& globals);

// Argument helpers for builtins: positional index or keyword name.
const Value* find_arg(CallArgs& args, std::size_t index, std::string_view name);
void check_args(const CallArgs& args, std::string_view fn, std::size_t max_positional,
                std::initializer_list<std::string_view> keywords);
// Python's str % args and str.format.
std::string percent_format(Interpreter& in, const std::string& format, const Value& args);
std::string str_format(Interpreter& in, const std::string& format, CallArgs& args);
// json.dumps as transformers' tojson filter calls it.
std::string to_json(const Value& v, const Value& indent, const Value& separators, bool sort_keys,
                    bool ensure_ascii);

}  // namespace finch::tokenizer::jinja
