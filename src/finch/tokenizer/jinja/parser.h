// Parser: tokens -> statements, with jinja2's grammar and precedence.
#pragma once

#include <string>
#include <vector>

#include "finch/tokenizer/jinja/ast.h"
#include "finch/tokenizer/jinja/lexer.h"

namespace finch::tokenizer::jinja {

// Deep nesting could exhaust the stack; real templates nest a few levels.
inline constexpr int kMaxNesting = 200;

// Throws finch::Error "<name>:<line>:<col>: <what>".
Body parse(const std::vector<Token>& tokens, const std::string& name);

}  // namespace finch::tokenizer::jinja
