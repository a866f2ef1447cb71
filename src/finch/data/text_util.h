// Small text helpers shared by the table readers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace finch::data {

// nlohmann's parse error as a short printable single line: the exception tag
// dropped, control and non-ASCII bytes shown as \xNN, at most ~200 characters.
std::string clean_json_error(std::string_view what);

// Offset of the first byte that is not part of well-formed UTF-8, or npos.
size_t invalid_utf8_offset(std::string_view text);

}  // namespace finch::data
