// A recursive-descent parser with jinja2's grammar (jinja2/parser.py):
// conditional < or < and < not < compare < + - < ~ < * / // % < ** < unary,
// and filters / tests bind to the unary operand.
#include "finch/tokenizer/jinja/parser.h"

#include <charconv>
#include <set>
#include <stdexcept>

#include "finch/core/error.h"

namespace finch::tokenizer::jinja {
namespace {

using T = Token::Type;

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, const std::string& name) : toks_(tokens), name_(name) {}

  Body parse_all() {
    Body body = subparse({});
    if (cur().type != T::End) error(cur(), "unexpected token");
    return body;
  }

 private:
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p(p) {
      if (++p.depth_ > kMaxNesting) p.error(p.cur(), "template nesting too deep");
    }
    ~DepthGuard() { --p.depth_; }
    Parser& p;
  };

  const Token& cur() const { return toks_[pos_]; }
  const Token& peek(std::size_t n = 1) const { return toks_[std::min(pos_ + n, toks_.size() - 1)]; }
  const Token& advance() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool is_op(std::string_view op) const { return cur().type == T::Op && cur().value == op; }
  bool is_name(std::string_view n) const { return cur().type == T::Name && cur().value == n; }
  [[noreturn]] void error(const Token& at, const std::string& what) const {
    fail("{}:{}:{}: {}", name_, at.line, at.col, what);
  }
  static std::string describe(const Token& t) {
    switch (t.type) {
      case T::End: return "end of template";
      case T::VarEnd: return "end of print statement";
      case T::BlockEnd: return "end of statement block";
      case T::Data: return "template data";
      default: return "'" + t.value + "'";
    }
  }
  void expect_op(std::string_view op) {
    if (!is_op(op)) error(cur(), "expected '" + std::string(op) + "', got " + describe(cur()));
    advance();
  }
  void expect_block_end() {
    if (cur().type != T::BlockEnd) error(cur(), "expected end of statement block, got " + describe(cur()));
    advance();
  }
  std::string expect_name() {
    if (cur().type != T::Name) error(cur(), "expected a name, got " + describe(cur()));
    return advance().value;
  }

  ExprPtr node(Expr::Kind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }
  StmtPtr stmt(Stmt::Kind kind, const Token& at) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = at.line;
    s->col = at.col;
    return s;
  }

  // Statements up to a block whose tag is one of `ends` (left unconsumed: the tag name is current).
  Body subparse(const std::vector<std::string_view>& ends) {
    DepthGuard guard(*this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == T::End) {
        if (!ends.empty()) {
          std::string list;
          for (auto e : ends) list += (list.empty() ? "'" : " or '") + std::string(e) + "'";
          error(t, "unexpected end of template, expected " + list);
        }
        return body;
      }
      if (t.type == T::Data) {
        auto s = stmt(Stmt::Kind::Text, t);
        s->text = advance().value;
        body.push_back(std::move(s));
      } else if (t.type == T::VarBegin) {
        advance();
        auto s = stmt(Stmt::Kind::Output, t);
        s->expr = parse_tuple(true, {});
        if (cur().type != T::VarEnd) error(cur(), "expected end of print statement, got " + describe(cur()));
        advance();
        body.push_back(std::move(s));
      } else if (t.type == T::BlockBegin) {
        advance();
        if (cur().type == T::Name)
          for (auto e : ends)
            if (cur().value == e) return body;
        body.push_back(parse_statement());
      } else {
        error(t, "unexpected " + describe(t));
      }
    }
  }

  // Body up to one of `ends`; consumes the end tag's name (and, with drop, its block end).
  Body parse_statements(const std::vector<std::string_view>& ends, bool drop_needle) {
    expect_block_end();
    Body body = subparse(ends);
    if (drop_needle) {
      advance();
      expect_block_end();
    }
    return body;
  }

  StmtPtr parse_statement() {
    const Token& t = cur();
    if (t.type != T::Name) error(t, "tag name expected");
    const std::string& tag = t.value;
    if (tag == "for") return parse_for();
    if (tag == "if") return parse_if();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "call") return parse_call_block();
    if (tag == "filter") return parse_filter_block();
    if (tag == "with") return parse_with();
    if (tag == "print") {
      advance();
      auto s = stmt(Stmt::Kind::Output, t);
      s->expr = parse_tuple(true, {});
      expect_block_end();
      return s;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) error(t, "'" + tag + "' outside of a loop");
      auto s = stmt(tag == "break" ? Stmt::Kind::Break : Stmt::Kind::Continue, t);
      advance();
      expect_block_end();
      return s;
    }
    if (tag == "generation") {
      auto s = stmt(Stmt::Kind::Generation, t);
      advance();
      s->body = parse_statements({"endgeneration"}, true);
      return s;
    }
    if (tag == "block" || tag == "extends" || tag == "include" || tag == "import" || tag == "from" ||
        tag == "autoescape")
      error(t, "the '" + tag + "' tag is not supported in chat templates");
    error(t, "Encountered unknown tag '" + tag + "'");
  }

  // Names, or a tuple of names, before '=' or 'in'.
  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    bool paren = is_op("(");
    if (paren) advance();
    while (true) {
      names.push_back(expect_name());
      if (!is_op(",")) break;
      advance();
      if (paren && is_op(")")) break;
    }
    if (paren) expect_op(")");
    for (const auto& n : names)
      if (n == "true" || n == "false" || n == "none" || n == "True" || n == "False" || n == "None")
        error(cur(), "can't assign to constant '" + n + "'");
    return names;
  }

  StmtPtr parse_for() {
    auto s = stmt(Stmt::Kind::For, advance());
    s->targets = parse_targets();
    if (!is_name("in")) error(cur(), "expected 'in', got " + describe(cur()));
    advance();
    s->expr = parse_tuple(false, {"recursive"});
    if (is_name("if")) {
      advance();
      s->cond = parse_expression(true);
    }
    if (is_name("recursive")) error(cur(), "recursive loops are not supported in chat templates");
    ++loop_depth_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (advance().value == "else") s->else_body = parse_statements({"endfor"}, true);
    else expect_block_end();
    return s;
  }

  StmtPtr parse_if() {
    auto s = stmt(Stmt::Kind::If, advance());
    while (true) {
      s->conds.push_back(parse_tuple(false, {}));
      s->bodies.push_back(parse_statements({"elif", "else", "endif"}, false));
      std::string tag = advance().value;
      if (tag == "elif") continue;
      if (tag == "else") s->else_body = parse_statements({"endif"}, true);
      else expect_block_end();
      break;
    }
    return s;
  }

  StmtPtr parse_set() {
    auto s = stmt(Stmt::Kind::Set, advance());
    if (cur().type == T::Name && peek().type == T::Op && peek().value == ".") {
      s->targets.push_back(advance().value);
      advance();
      s->attr = expect_name();
    } else {
      s->targets = parse_targets();
    }
    if (is_op("=")) {
      advance();
      s->expr = parse_tuple(true, {});
      expect_block_end();
      return s;
    }
    if (!s->attr.empty() || s->targets.size() != 1) error(cur(), "expected '='");
    s->kind = Stmt::Kind::SetBlock;
    if (is_op("|")) s->expr = parse_filter(nullptr);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (is_op(")")) break;
      s.params.push_back(expect_name());
      if (is_op("=")) {
        advance();
        s.defaults.push_back(parse_expression(true));
      } else {
        if (!s.defaults.empty() && s.defaults.back()) error(cur(), "non-default argument follows default argument");
        s.defaults.push_back(nullptr);
      }
    }
    advance();
  }

  StmtPtr parse_macro() {
    auto s = stmt(Stmt::Kind::Macro, advance());
    s->text = expect_name();
    parse_signature(*s);
    std::set<std::string> outer;
    outer.swap(seen_names_);
    int saved_loops = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved_loops;
    s->uses_caller = seen_names_.count("caller") > 0;
    s->uses_varargs = seen_names_.count("varargs") > 0;
    s->uses_kwargs = seen_names_.count("kwargs") > 0;
    seen_names_.merge(outer);
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = stmt(Stmt::Kind::CallBlock, advance());
    if (is_op("(")) parse_signature(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != Expr::Kind::Call) error(cur(), "expected call");
    s->body = parse_statements({"endcall"}, true);
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = stmt(Stmt::Kind::FilterBlock, advance());
    s->expr = parse_filter(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    auto s = stmt(Stmt::Kind::With, advance());
    while (cur().type != T::BlockEnd) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(expect_name());
      expect_op("=");
      s->values.push_back(parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  // ---- expressions ----

  bool is_tuple_end(const std::vector<std::string_view>& extra) const {
    if (cur().type == T::VarEnd || cur().type == T::BlockEnd || cur().type == T::End || is_op(")")) return true;
    for (auto e : extra)
      if (is_name(e)) return true;
    return false;
  }

  ExprPtr parse_tuple(bool with_condexpr, const std::vector<std::string_view>& extra, bool explicit_parens = false) {
    const Token& start = cur();
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra)) break;
      items.push_back(parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (!items.empty()) return std::move(items[0]);
      if (!explicit_parens) error(cur(), "expected an expression, got " + describe(cur()));
    }
    auto e = node(Expr::Kind::Tuple, start);
    e->args = std::move(items);
    return e;
  }

  ExprPtr parse_expression(bool with_condexpr) {
    DepthGuard guard(*this);
    if (!with_condexpr) return parse_or();
    ExprPtr expr = parse_or();
    while (is_name("if")) {
      auto e = node(Expr::Kind::CondExpr, advance());
      ExprPtr test = parse_or();
      e->args.push_back(std::move(test));  // args: test, then-value, else-value (may be null)
      e->args.push_back(std::move(expr));
      if (is_name("else")) {
        advance();
        e->args.push_back(parse_expression(true));
      } else {
        e->args.push_back(nullptr);
      }
      expr = std::move(e);
    }
    return expr;
  }

  ExprPtr binary(Expr::Kind kind, const Token& at, ExprPtr l, ExprPtr r, std::string op = {}) {
    auto e = node(kind, at);
    e->name = std::move(op);
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (is_name("or")) {
      const Token& t = advance();
      left = binary(Expr::Kind::Or, t, std::move(left), parse_and());
    }
    return left;
  }
  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (is_name("and")) {
      const Token& t = advance();
      left = binary(Expr::Kind::And, t, std::move(left), parse_not());
    }
    return left;
  }
  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto e = node(Expr::Kind::Not, advance());
      e->args.push_back(parse_not());
      return e;
    }
    return parse_compare();
  }
  ExprPtr parse_compare() {
    const Token& start = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == T::Op && (cur().value == "==" || cur().value == "!=" || cur().value == "<" ||
                                  cur().value == ">" || cur().value == "<=" || cur().value == ">=")) {
        op = advance().value;
      } else if (is_name("in")) {
        advance();
        op = "in";
      } else if (is_name("not") && peek().type == T::Name && peek().value == "in") {
        advance();
        advance();
        op = "notin";
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(Expr::Kind::Compare, start);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }
  ExprPtr parse_math1() {
    ExprPtr left = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& t = advance();
      left = binary(Expr::Kind::Binary, t, std::move(left), parse_concat(), t.value);
    }
    return left;
  }
  ExprPtr parse_concat() {
    const Token& start = cur();
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = node(Expr::Kind::Concat, start);
    e->args.push_back(std::move(first));
    while (is_op("~")) {
      advance();
      e->args.push_back(parse_math2());
    }
    return e;
  }
  ExprPtr parse_math2() {
    ExprPtr left = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& t = advance();
      left = binary(Expr::Kind::Binary, t, std::move(left), parse_pow(), t.value);
    }
    return left;
  }
  ExprPtr parse_pow() {
    ExprPtr left = parse_unary(true);
    while (is_op("**")) {
      const Token& t = advance();
      left = binary(Expr::Kind::Binary, t, std::move(left), parse_unary(true), "**");
    }
    return left;
  }
  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const Token& t = advance();
      e = node(t.value == "-" ? Expr::Kind::Neg : Expr::Kind::Pos, t);
      e->args.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    if (t.type == T::Name) {
      advance();
      auto e = node(Expr::Kind::Literal, t);
      if (t.value == "true" || t.value == "True") e->literal = Value::from_bool(true);
      else if (t.value == "false" || t.value == "False") e->literal = Value::from_bool(false);
      else if (t.value == "none" || t.value == "None") e->literal = Value::none();
      else {
        e->kind = Expr::Kind::Name;
        e->name = t.value;
        seen_names_.insert(t.value);
      }
      return e;
    }
    if (t.type == T::String) {
      std::string s;
      while (cur().type == T::String) s += advance().value;
      auto e = node(Expr::Kind::Literal, t);
      e->literal = Value::from_string(std::move(s));
      return e;
    }
    if (t.type == T::Int || t.type == T::Float) {
      advance();
      auto e = node(Expr::Kind::Literal, t);
      if (t.type == T::Int) {
        e->literal = int_literal(t);
      } else {
        e->literal = Value::from_float(std::strtod(t.value.c_str(), nullptr));
      }
      return e;
    }
    if (is_op("(")) {
      advance();
      ExprPtr e = parse_tuple(true, {}, true);
      expect_op(")");
      return e;
    }
    if (is_op("[")) {
      auto e = node(Expr::Kind::List, advance());
      while (!is_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("]")) break;
        e->args.push_back(parse_expression(true));
      }
      advance();
      return e;
    }
    if (is_op("{")) {
      auto e = node(Expr::Kind::Dict, advance());
      while (!is_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (is_op("}")) break;
        e->args.push_back(parse_expression(true));
        expect_op(":");
        e->args.push_back(parse_expression(true));
      }
      advance();
      return e;
    }
    error(t, "unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".") || is_op("[")) e = parse_subscript(std::move(e));
      else if (is_op("(")) e = parse_call(std::move(e));
      else return e;
    }
  }
  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (is_op("|")) e = parse_filter(std::move(e));
      else if (is_name("is")) e = parse_test(std::move(e));
      else if (is_op("(")) e = parse_call(std::move(e));
      else return e;
    }
  }

  Value int_literal(const Token& t) {
    std::int64_t v = 0;
    auto res = std::from_chars(t.value.data(), t.value.data() + t.value.size(), v);
    if (res.ec != std::errc()) error(t, "integer literal out of range");
    return Value::from_int(v);
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    DepthGuard guard(*this);
    const Token& t = advance();
    if (t.value == ".") {
      const Token& attr = cur();
      if (attr.type == T::Name) {
        advance();
        auto e = node(Expr::Kind::Attr, t);
        e->name = attr.value;
        e->args.push_back(std::move(obj));
        return e;
      }
      if (attr.type != T::Int) error(attr, "expected name or number");
      advance();
      auto e = node(Expr::Kind::Item, t);
      auto index = node(Expr::Kind::Literal, attr);
      index->literal = int_literal(attr);
      e->args.push_back(std::move(obj));
      e->args.push_back(std::move(index));
      return e;
    }
    std::vector<ExprPtr> parts;
    bool tuple = false;
    while (!is_op("]")) {
      if (!parts.empty()) {
        expect_op(",");
        tuple = true;
      }
      parts.push_back(parse_subscribed());
    }
    advance();
    if (parts.empty()) error(t, "expected a subscript");
    if (!tuple) {
      if (parts[0]->kind == Expr::Kind::Slice && parts[0]->args[0] == nullptr) {
        parts[0]->args[0] = std::move(obj);
        return std::move(parts[0]);
      }
      auto e = node(Expr::Kind::Item, t);
      e->args.push_back(std::move(obj));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    error(t, "tuple subscripts are not supported");
  }

  // One subscript: an expression, or a slice start:stop:step (returned as a Slice with args[0] empty).
  ExprPtr parse_subscribed() {
    const Token& start = cur();
    ExprPtr first;
    if (!is_op(":")) {
      first = parse_expression(true);
      if (!is_op(":")) return first;
    }
    advance();
    auto e = node(Expr::Kind::Slice, start);
    e->args.push_back(nullptr);
    e->args.push_back(std::move(first));
    if (!is_op("]") && !is_op(",") && !is_op(":")) e->args.push_back(parse_expression(true));
    else e->args.push_back(nullptr);
    if (is_op(":")) {
      advance();
      if (!is_op("]") && !is_op(",")) e->args.push_back(parse_expression(true));
      else e->args.push_back(nullptr);
    } else {
      e->args.push_back(nullptr);
    }
    return e;
  }

  void parse_call_args(Expr& e) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (is_op("*") || is_op("**")) error(cur(), "*args and **kwargs in calls are not supported");
      if (cur().type == T::Name && peek().type == T::Op && peek().value == "=") {
        std::string key = advance().value;
        advance();
        e.kwargs.emplace_back(key, parse_expression(true));
      } else {
        if (!e.kwargs.empty()) error(cur(), "invalid syntax for function call expression");
        e.args.push_back(parse_expression(true));
      }
    }
    advance();
  }

  ExprPtr parse_call(ExprPtr callee) {
    DepthGuard guard(*this);
    auto e = node(Expr::Kind::Call, cur());
    e->args.push_back(std::move(callee));
    parse_call_args(*e);
    return e;
  }

  std::string dotted_name() {
    std::string n = expect_name();
    while (is_op(".")) {
      advance();
      n += "." + expect_name();
    }
    return n;
  }

  ExprPtr parse_filter(ExprPtr operand, bool start_inline = false) {
    while (is_op("|") || start_inline) {
      DepthGuard guard(*this);
      if (!start_inline) advance();
      start_inline = false;
      const Token& t = cur();
      auto e = node(Expr::Kind::Filter, t);
      e->name = dotted_name();
      e->args.push_back(std::move(operand));
      if (is_op("(")) parse_call_args(*e);
      operand = std::move(e);
    }
    return operand;
  }

  ExprPtr parse_test(ExprPtr operand) {
    DepthGuard guard(*this);
    auto e = node(Expr::Kind::Test, advance());
    if (is_name("not")) {
      advance();
      e->negated = true;
    }
    e->name = dotted_name();
    e->args.push_back(std::move(operand));
    if (is_op("(")) {
      parse_call_args(*e);
    } else if ((cur().type == T::Name || cur().type == T::String || cur().type == T::Int || cur().type == T::Float ||
                is_op("(") || is_op("[") || is_op("{")) &&
               !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) error(cur(), "You cannot chain multiple tests with is");
      e->args.push_back(parse_postfix(parse_primary()));
    }
    return e;
  }

  const std::vector<Token>& toks_;
  const std::string& name_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
  std::set<std::string> seen_names_;
};

}  // namespace

Body parse(const std::vector<Token>& tokens, const std::string& name) { return Parser(tokens, name).parse_all(); }

}  // namespace finch::tokenizer::jinja
