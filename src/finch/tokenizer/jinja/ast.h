// The parsed template: expressions and statements, each with its position.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "finch/tokenizer/jinja/value.h"

namespace finch::tokenizer::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Expr {
  enum class Kind {
    Literal,    // value
    Name,       // name
    Attr,       // args[0].name
    Item,       // args[0][args[1]]
    Slice,      // args[0][args[1]:args[2]:args[3]] (null parts absent)
    Call,       // args[0](args[1:], kwargs)
    Filter,     // args[0] | name(args[1:], kwargs); args[0] null in a filter block
    Test,       // args[0] is [not] name(args[1:], kwargs)
    Neg, Pos, Not,
    Binary,     // args[0] op args[1]: + - * / // % **
    Concat,     // args joined with ~
    And, Or,
    Compare,    // args[0] ops[0] args[1] ops[1] args[2] ...
    CondExpr,   // args[1] if args[0] else args[2] (args[2] may be null)
    List, Tuple, Dict,  // Dict: args are key, value, key, value ...
  };
  Kind kind;
  int line = 0;
  int col = 0;
  std::string name;  // Name, Attr, Filter, Test, Binary operator
  Value literal;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare
  bool negated = false;          // Test
};

struct Stmt {
  enum class Kind {
    Text,       // text
    Output,     // {{ expr }}
    If,         // conds[i] -> bodies[i]; else_body
    For,        // targets in expr [if cond] body [else else_body]
    Set,        // targets = expr, or expr_target.attr = expr (namespace)
    SetBlock,   // targets[0] = rendered body | filter
    Macro,      // name(params = defaults) body
    CallBlock,  // expr (a call) with caller(params) = body
    FilterBlock,// body | filter
    With,       // targets = values; body
    Break, Continue,
    Generation, // {% generation %}: renders its body
  };
  Kind kind;
  int line = 0;
  int col = 0;
  std::string text;
  std::vector<std::string> targets;
  std::string attr;           // Set on a namespace attribute: targets[0].attr
  ExprPtr expr;               // value, iterable, call or filter chain (operand null)
  ExprPtr cond;               // For: the loop filter
  std::vector<ExprPtr> conds; // If
  std::vector<Body> bodies;   // If
  Body body;
  Body else_body;
  std::vector<std::string> params;   // Macro, CallBlock
  std::vector<ExprPtr> defaults;     // aligned with params; null when none
  std::vector<ExprPtr> values;       // With
  bool recursive = false;
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;  // Macro
};

}  // namespace finch::tokenizer::jinja
