// Python str operations on UTF-8 text, shared by methods and filters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace finch::tokenizer::jinja {

std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
std::string to_title(std::string_view s);  // title case of each character
std::string capitalize(std::string_view s);   // str.capitalize
std::string py_title(std::string_view s);     // str.title
// str.strip(chars) family; chars == nullptr strips whitespace.
std::string strip_chars(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit); sep == nullptr splits on whitespace runs.
std::vector<std::string> split(std::string_view s, const std::string* sep, long long maxsplit);
std::vector<std::string> rsplit(std::string_view s, const std::string* sep, long long maxsplit);
std::vector<std::string> splitlines(std::string_view s, bool keepends = false);
std::string replace_all(std::string_view s, std::string_view old, std::string_view with, long long count);
// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(std::string_view s);
bool all_chars(std::string_view s, bool (*pred)(char32_t));
char32_t decode(std::string_view code_point);
std::string encode(char32_t cp);

}  // namespace finch::tokenizer::jinja
