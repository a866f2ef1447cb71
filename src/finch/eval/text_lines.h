// Text as bert-score's Python reads it.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace finch::eval {

// Python's str.strip(): removes leading and trailing characters for which
// str.isspace() is true (ASCII whitespace, \x1c-\x1f, \x85, \xa0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). `text` is UTF-8.
std::string python_strip(std::string_view text);

// The lines of a UTF-8 text file as Python iterates them (universal newlines:
// \n, \r\n and \r end a line; a last line without one counts), without their
// line ends. A missing file is an error naming it.
std::vector<std::string> read_lines(const std::filesystem::path& path);

}  // namespace finch::eval
