// Statements: output, control flow and jinja2's scoping. Each iteration of a
// for loop, a macro call and a {% with %} get their own scope; {% if %} does
// not. A variable set inside a loop therefore vanishes at the end of the
// iteration (templates use namespace() to carry values out).
#include "finch/tokenizer/jinja/interpreter.h"

#include "finch/core/error.h"

namespace finch::tokenizer::jinja {

const Value* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s; s = s->parent.get())
    for (const auto& [k, v] : s->vars)
      if (k == name) return &v;
  return nullptr;
}

void Scope::set(const std::string& name, Value value) {
  for (auto& [k, v] : vars)
    if (k == name) {
      v = std::move(value);
      return;
    }
  vars.emplace_back(name, std::move(value));
}

Interpreter::Interpreter(const std::string& template_name, Limits limits)
    : name_(template_name), limits_(limits) {
  add_globals(globals_);
}

std::string Interpreter::render(const Body& body, const Dict& context) {
  std::string out;
  out_ = &out;
  scope_ = std::make_shared<Scope>();
  for (const auto& [k, v] : context.items) scope_->set(k.text, v);
  struct BreakCycles {
    Interpreter& in;
    ~BreakCycles() {
      for (auto& weak : in.namespaces_)
        if (auto ns = weak.lock()) ns->attributes.items.clear();
      for (auto& weak : in.macro_scopes_)
        if (auto scope = weak.lock()) scope->vars.clear();
      in.scope_.reset();
    }
  } break_cycles{*this};
  try {
    exec(body);
  } catch (const EvalError& e) {
    if (e.located) throw Error(e.what());
    throw Error(name_ + ": " + e.what());
  }
  return out;
}

void Interpreter::emit(std::string_view text) {
  out_->append(text);
  check_size(out_->size());
}

void Interpreter::check_size(std::size_t bytes) const {
  if (bytes > limits_.max_output_bytes)
    raise("output exceeds the limit of " + std::to_string(limits_.max_output_bytes) + " bytes");
}

void Interpreter::count_iterations(std::size_t n) {
  iterations_ += n;
  if (iterations_ > limits_.max_loop_iterations)
    raise("more than " + std::to_string(limits_.max_loop_iterations) + " loop iterations");
}

Interpreter::Flow Interpreter::exec(const Body& body) {
  for (const auto& s : body) {
    Flow f = exec(*s);
    if (f != Flow::Normal) return f;
  }
  return Flow::Normal;
}

std::string Interpreter::capture(const Body& body, std::shared_ptr<Scope> scope) {
  std::string buffer;
  std::string* saved_out = out_;
  auto saved_scope = scope_;
  out_ = &buffer;
  scope_ = std::move(scope);
  try {
    exec(body);
  } catch (...) {
    out_ = saved_out;
    scope_ = saved_scope;
    throw;
  }
  out_ = saved_out;
  scope_ = saved_scope;
  return buffer;
}

Interpreter::Flow Interpreter::exec(const Stmt& s) {
  try {
    switch (s.kind) {
      case Stmt::Kind::Text: emit(s.text); break;
      case Stmt::Kind::Output: emit(to_str(eval(*s.expr))); break;
      case Stmt::Kind::If: {
        for (std::size_t i = 0; i < s.conds.size(); ++i)
          if (truthy(eval(*s.conds[i]))) return exec(s.bodies[i]);
        return exec(s.else_body);
      }
      case Stmt::Kind::For: exec_for(s); break;
      case Stmt::Kind::Set: exec_set(s); break;
      case Stmt::Kind::SetBlock: {
        // The body renders in an inner scope: a set inside it stays inside.
        auto inner = std::make_shared<Scope>();
        inner->parent = scope_;
        Value text = Value::from_string(capture(s.body, inner));
        if (s.expr) {
          block_operand_ = &text;
          text = eval(*s.expr);
        }
        scope_->set(s.targets[0], std::move(text));
        break;
      }
      case Stmt::Kind::Macro: scope_->set(s.text, make_macro(s, scope_)); break;
      case Stmt::Kind::CallBlock: {
        // caller() renders the block's body as a macro with the block's parameters.
        Value caller = make_macro(s, scope_);
        const Expr& call_expr = *s.expr;
        Value callee = eval(*call_expr.args[0]);
        CallArgs args = eval_args(call_expr, 1);
        args.keyword.emplace_back("caller", caller);
        emit(to_str(call(callee, args)));
        break;
      }
      case Stmt::Kind::FilterBlock: {
        auto inner = std::make_shared<Scope>();
        inner->parent = scope_;
        Value text = Value::from_string(capture(s.body, inner));
        block_operand_ = &text;
        emit(to_str(eval(*s.expr)));
        break;
      }
      case Stmt::Kind::With: {
        auto scope = std::make_shared<Scope>();
        scope->parent = scope_;
        for (std::size_t i = 0; i < s.targets.size(); ++i) scope->set(s.targets[i], eval(*s.values[i]));
        auto saved = scope_;
        scope_ = scope;
        Flow f;
        try {
          f = exec(s.body);
        } catch (...) {
          scope_ = saved;
          throw;
        }
        scope_ = saved;
        return f;
      }
      case Stmt::Kind::Break: return Flow::Break;
      case Stmt::Kind::Continue: return Flow::Continue;
      case Stmt::Kind::Generation: return exec(s.body);
    }
  } catch (EvalError& e) {
    if (!e.located) throw EvalError(name_ + ":" + std::to_string(s.line) + ":" + std::to_string(s.col) + ": " + e.what(), true);
    throw;
  }
  return Flow::Normal;
}

void Interpreter::bind(const std::vector<std::string>& targets, const Value& value, Scope& scope) {
  if (targets.size() == 1) {
    scope.set(targets[0], value);
    return;
  }
  List items = iterate(value);
  if (items.size() != targets.size())
    raise(items.size() < targets.size()
              ? "not enough values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                    std::to_string(items.size()) + ")"
              : "too many values to unpack (expected " + std::to_string(targets.size()) + ")");
  for (std::size_t i = 0; i < targets.size(); ++i) scope.set(targets[i], items[i]);
}

void Interpreter::exec_set(const Stmt& s) {
  Value v = eval(*s.expr);
  if (s.attr.empty()) {
    bind(s.targets, v, *scope_);
    return;
  }
  Value target = lookup(s.targets[0]);
  if (target.kind != Value::Kind::Namespace) raise("cannot assign attribute on non-namespace object");
  if (!s.attr.empty() && s.attr[0] == '_')
    raise("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '" + s.attr + "'.");
  target.ns->attributes.set(s.attr, std::move(v));
}

void Interpreter::exec_for(const Stmt& s) {
  List items = iterate(eval(*s.expr));
  auto saved = scope_;
  auto fresh_scope = [&] {
    auto scope = std::make_shared<Scope>();
    scope->parent = saved;
    scope_ = scope;
    return scope;
  };
  try {
    if (s.cond) {
      // The loop filter runs first, so loop.length and loop.last count only kept items.
      List kept;
      for (const Value& item : items) {
        count_iterations(1);
        bind(s.targets, item, *fresh_scope());
        if (truthy(eval(*s.cond))) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      fresh_scope();
      exec(s.else_body);
    } else {
      const std::int64_t n = static_cast<std::int64_t>(items.size());
      for (std::int64_t i = 0; i < n; ++i) {
        count_iterations(1);
        auto scope = fresh_scope();
        bind(s.targets, items[i], *scope);
        Dict loop;
        loop.set("index", Value::from_int(i + 1));
        loop.set("index0", Value::from_int(i));
        loop.set("revindex", Value::from_int(n - i));
        loop.set("revindex0", Value::from_int(n - i - 1));
        loop.set("first", Value::from_bool(i == 0));
        loop.set("last", Value::from_bool(i == n - 1));
        loop.set("length", Value::from_int(n));
        loop.set("depth", Value::from_int(1));
        loop.set("depth0", Value::from_int(0));
        loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
        loop.set("nextitem", i + 1 < n ? items[i + 1] : Value::undefined("there is no next item"));
        loop.set("cycle", Value::from_callable("cycle", [i](Interpreter&, CallArgs& a) {
                   if (a.positional.empty()) raise("no items for cycling given");
                   return a.positional[static_cast<std::size_t>(i) % a.positional.size()];
                 }));
        scope->set("loop", Value::from_dict(std::move(loop)));
        Flow f = exec(s.body);
        if (f == Flow::Break) break;
      }
    }
  } catch (...) {
    scope_ = saved;
    throw;
  }
  scope_ = saved;
}

Value Interpreter::make_macro(const Stmt& m, std::shared_ptr<Scope> closure) {
  const Stmt* macro = &m;
  macro_scopes_.push_back(closure);
  return Value::from_callable(m.text.empty() ? "caller" : m.text,
                              [macro, closure](Interpreter& in, CallArgs& args) {
                                return in.call_macro(*macro, closure, args);
                              });
}

Value Interpreter::call_macro(const Stmt& m, const std::shared_ptr<Scope>& closure, CallArgs& args) {
  const std::string macro_name = m.text.empty() ? "caller" : m.text;
  if (call_depth_ >= limits_.max_call_depth)
    raise("macro calls nested more than " + std::to_string(limits_.max_call_depth) + " deep");
  auto scope = std::make_shared<Scope>();
  scope->parent = closure;
  std::vector<bool> given(m.params.size(), false);
  List varargs;
  for (std::size_t i = 0; i < args.positional.size(); ++i) {
    if (i < m.params.size()) {
      scope->set(m.params[i], args.positional[i]);
      given[i] = true;
    } else if (m.uses_varargs) {
      varargs.push_back(args.positional[i]);
    } else {
      raise("macro '" + macro_name + "' takes not more than " + std::to_string(m.params.size()) + " argument(s)");
    }
  }
  Dict kwargs;
  bool has_caller = false;
  for (auto& [k, v] : args.keyword) {
    bool matched = false;
    for (std::size_t i = 0; i < m.params.size(); ++i)
      if (m.params[i] == k) {
        if (given[i]) raise("macro '" + macro_name + "' got multiple values for argument '" + k + "'");
        scope->set(k, v);
        given[i] = matched = true;
      }
    if (matched) continue;
    if (k == "caller" && m.uses_caller) {
      scope->set("caller", v);
      has_caller = true;
    } else if (m.uses_kwargs) {
      kwargs.set(k, v);
    } else {
      raise("macro '" + macro_name + "' takes no keyword argument '" + k + "'");
    }
  }
  if (m.uses_caller && !has_caller && !scope->find("caller"))
    scope->set("caller", Value::undefined("No caller defined"));
  if (m.uses_varargs) scope->set("varargs", Value::from_tuple(std::move(varargs)));
  if (m.uses_kwargs) scope->set("kwargs", Value::from_dict(std::move(kwargs)));
  ++call_depth_;
  struct DepthRestore {
    int& d;
    ~DepthRestore() { --d; }
  } restore{call_depth_};
  // Defaults are evaluated in the macro's scope, so they may use earlier parameters.
  auto saved = scope_;
  scope_ = scope;
  try {
    for (std::size_t i = 0; i < m.params.size(); ++i)
      if (!given[i])
        scope->set(m.params[i], m.defaults[i] ? eval(*m.defaults[i])
                                              : Value::undefined("parameter '" + m.params[i] + "' was not provided"));
  } catch (...) {
    scope_ = saved;
    throw;
  }
  scope_ = saved;
  return Value::from_string(capture(m.body, scope));
}

}  // namespace finch::tokenizer::jinja
