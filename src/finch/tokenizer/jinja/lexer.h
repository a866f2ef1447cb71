// Jinja lexer with the settings transformers uses: trim_blocks, lstrip_blocks,
// keep_trailing_newline=False and the default delimiters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace finch::tokenizer::jinja {

struct Token {
  enum class Type { Data, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, End };
  Type type;
  std::string value;  // Data text, name, decoded string literal, number text or operator
  int line = 1;
  int col = 1;
};

// Throws finch::Error "<name>:<line>:<col>: <what>" on a lexical error.
std::vector<Token> tokenize(std::string_view source, const std::string& name);

// Python's str.isspace for one code point given as UTF-8.
bool is_python_space(std::string_view code_point);
// Python's str.strip()/lstrip()/rstrip() without arguments.
std::string_view strip_python_space(std::string_view s, bool left, bool right);

}  // namespace finch::tokenizer::jinja
