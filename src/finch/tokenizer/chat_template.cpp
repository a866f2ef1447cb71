#include "finch/tokenizer/chat_template.h"

#include "finch/core/error.h"
#include "finch/tokenizer/jinja/interpreter.h"
#include "finch/tokenizer/jinja/lexer.h"
#include "finch/tokenizer/jinja/parser.h"

namespace finch::tokenizer {
namespace {

using jinja::Value;

template <typename Json>
Value to_value(const Json& j, int depth = 0) {
  if (depth > 512) fail("chat template context: JSON nested more than 512 deep");
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Value::none();
    case nlohmann::json::value_t::boolean: return Value::from_bool(j.template get<bool>());
    case nlohmann::json::value_t::number_integer: return Value::from_int(j.template get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.template get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) fail("chat template context: integer {} is out of range", u);
      return Value::from_int(static_cast<std::int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return Value::from_float(j.template get<double>());
    case nlohmann::json::value_t::string: return Value::from_string(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      jinja::List items;
      for (const auto& e : j) items.push_back(to_value(e, depth + 1));
      return Value::from_list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      jinja::Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), to_value(it.value(), depth + 1));
      return Value::from_dict(std::move(d));
    }
    default: fail("chat template context: unsupported JSON value (binary or discarded)");
  }
}

// jinja2 resolves filter and test names when it compiles, so an unknown one
// fails the whole template even in a branch that never runs, except directly
// under an {% if %} (its "soft" frame), where it fails only when evaluated.
void check_names(const jinja::Expr* e, const std::string& name, bool soft) {
  if (!e || soft) return;
  using K = jinja::Expr::Kind;
  if (e->kind == K::Filter && !jinja::has_filter(e->name))
    fail("{}:{}:{}: No filter named '{}'.", name, e->line, e->col, e->name);
  if (e->kind == K::Test && !jinja::has_test(e->name))
    fail("{}:{}:{}: No test named '{}'.", name, e->line, e->col, e->name);
  for (const auto& a : e->args) check_names(a.get(), name, soft);
  for (const auto& [_, a] : e->kwargs) check_names(a.get(), name, soft);
}

void check_names(const jinja::Body& body, const std::string& name, bool soft) {
  for (const auto& s : body) {
    bool if_stmt = s->kind == jinja::Stmt::Kind::If;
    check_names(s->expr.get(), name, soft);
    check_names(s->cond.get(), name, false);
    for (const auto& c : s->conds) check_names(c.get(), name, true);
    for (const auto& b : s->bodies) check_names(b, name, true);
    for (const auto& d : s->defaults) check_names(d.get(), name, false);
    for (const auto& v : s->values) check_names(v.get(), name, soft);
    check_names(s->body, name, false);
    check_names(s->else_body, name, if_stmt);
  }
}

template <typename Json>
std::string render_json(const jinja::Body& body, const std::string& name, const jinja::Limits& limits,
                        const Json& context) {
  if (!context.is_object()) fail("{}: the chat template context must be a JSON object", name);
  Value ctx = to_value(context);
  jinja::Interpreter interpreter(name, limits);
  return interpreter.render(body, *ctx.dict);
}

}  // namespace

ChatTemplate::ChatTemplate(std::string_view source, std::string name, jinja::Limits limits)
    : name_(std::move(name)), limits_(limits) {
  auto tokens = jinja::tokenize(source, name_);
  body_ = std::make_unique<jinja::Body>(jinja::parse(tokens, name_));
  check_names(*body_, name_, false);
}

ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const {
  return render_json(*body_, name_, limits_, context);
}

std::string ChatTemplate::render(const nlohmann::json& context) const {
  return render_json(*body_, name_, limits_, context);
}

}  // namespace finch::tokenizer
