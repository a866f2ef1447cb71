#include "finch/tokenizer/jinja/text.h"

#include <utf8proc.h>

#include <algorithm>

#include "finch/tokenizer/jinja/lexer.h"
#include "finch/tokenizer/jinja/value.h"

namespace finch::tokenizer::jinja {

char32_t decode(std::string_view cp) {
  utf8proc_int32_t code = 0xFFFD;
  utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(cp.data()), static_cast<utf8proc_ssize_t>(cp.size()),
                   &code);
  return code < 0 ? 0xFFFD : static_cast<char32_t>(code);
}

std::string encode(char32_t cp) {
  utf8proc_uint8_t buf[4];
  auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
  return std::string(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
}

namespace {
bool is_cased_letter(char32_t c) {
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}
enum class Case { Upper, Lower, Title };

// Python's full case mappings where one character becomes several (utf8proc
// maps single code points only); the common ones.
const char* special_case(char32_t c, Case to) {
  if (to == Case::Lower) return c == 0x130 ? "i\xcc\x87" : nullptr;
  bool title = to == Case::Title;
  switch (c) {
    case 0xDF: return title ? "Ss" : "SS";
    case 0xFB00: return title ? "Ff" : "FF";
    case 0xFB01: return title ? "Fi" : "FI";
    case 0xFB02: return title ? "Fl" : "FL";
    case 0xFB03: return title ? "Ffi" : "FFI";
    case 0xFB04: return title ? "Ffl" : "FFL";
    case 0xFB05:
    case 0xFB06: return title ? "St" : "ST";
    default: return nullptr;
  }
}

std::string map_case(std::string_view s, Case to) {
  std::string out;
  out.reserve(s.size());
  for (auto cp : code_points(s)) {
    if (cp.size() == 1) {
      auto c = static_cast<unsigned char>(cp[0]);
      out += static_cast<char>(to == Case::Lower ? std::tolower(c) : std::toupper(c));
      continue;
    }
    char32_t c = decode(cp);
    if (const char* special = special_case(c, to)) {
      out += special;
      continue;
    }
    auto code = static_cast<utf8proc_int32_t>(c);
    out += encode(static_cast<char32_t>(to == Case::Upper ? utf8proc_toupper(code)
                                        : to == Case::Lower ? utf8proc_tolower(code)
                                                            : utf8proc_totitle(code)));
  }
  return out;
}
}  // namespace

std::string to_upper(std::string_view s) { return map_case(s, Case::Upper); }
std::string to_lower(std::string_view s) { return map_case(s, Case::Lower); }
std::string to_title(std::string_view s) { return map_case(s, Case::Title); }

std::string capitalize(std::string_view s) {
  auto cps = code_points(s);
  if (cps.empty()) return {};
  std::string first(cps[0]);
  return to_title(first) + to_lower(s.substr(first.size()));
}

std::string py_title(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  for (auto cp : code_points(s)) {
    char32_t c = decode(cp);
    out += prev_cased ? to_lower(cp) : to_title(cp);
    prev_cased = is_cased_letter(c);
  }
  return out;
}

std::string strip_chars(std::string_view s, const std::string* chars, bool left, bool right) {
  if (!chars) return std::string(strip_python_space(s, left, right));
  auto set = code_points(*chars);
  auto in_set = [&](std::string_view cp) { return std::find(set.begin(), set.end(), cp) != set.end(); };
  auto cps = code_points(s);
  std::size_t b = 0, e = cps.size();
  if (left)
    while (b < e && in_set(cps[b])) ++b;
  if (right)
    while (e > b && in_set(cps[e - 1])) --e;
  std::string out;
  for (std::size_t i = b; i < e; ++i) out += cps[i];
  return out;
}

std::vector<std::string> split(std::string_view s, const std::string* sep, long long maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) raise("empty separator");
    std::size_t start = 0;
    while (maxsplit < 0 || static_cast<long long>(out.size()) < maxsplit) {
      std::size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  auto cps = code_points(s);
  std::size_t i = 0;
  while (true) {
    while (i < cps.size() && is_python_space(cps[i])) ++i;
    if (i == cps.size()) break;
    if (maxsplit >= 0 && static_cast<long long>(out.size()) >= maxsplit) {
      std::size_t offset = static_cast<std::size_t>(cps[i].data() - s.data());
      out.emplace_back(strip_python_space(s.substr(offset), false, true));
      break;
    }
    std::string word;
    while (i < cps.size() && !is_python_space(cps[i])) word += cps[i++];
    out.push_back(std::move(word));
  }
  return out;
}

std::vector<std::string> rsplit(std::string_view s, const std::string* sep, long long maxsplit) {
  if (maxsplit < 0) return split(s, sep, maxsplit);
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) raise("empty separator");
    std::size_t end = s.size();
    while (static_cast<long long>(out.size()) < maxsplit) {
      if (end < sep->size()) break;
      std::size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  auto words = split(s, nullptr, -1);
  if (static_cast<long long>(words.size()) <= maxsplit + 1) return words;
  // Keep the head (with its inner spacing) as one piece, as Python does.
  std::vector<std::string> tail(words.end() - maxsplit, words.end());
  std::string_view rest = strip_python_space(s, true, true);
  std::size_t cut = rest.size();
  for (auto it = tail.rbegin(); it != tail.rend(); ++it) {
    cut = rest.rfind(*it, cut - it->size());
    if (cut == std::string_view::npos) break;
  }
  std::vector<std::string> pieces;
  pieces.emplace_back(strip_python_space(rest.substr(0, cut), false, true));
  pieces.insert(pieces.end(), tail.begin(), tail.end());
  return pieces;
}

std::vector<std::string> splitlines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  auto cps = code_points(s);
  std::string line;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    std::string_view cp = cps[i];
    bool brk = cp == "\n" || cp == "\r" || cp == "\v" || cp == "\f" || cp == "\x1c" || cp == "\x1d" ||
               cp == "\x1e" || cp == "\xc2\x85" || cp == "\xe2\x80\xa8" || cp == "\xe2\x80\xa9";
    if (!brk) {
      line += cp;
      continue;
    }
    std::string end(cp);
    if (cp == "\r" && i + 1 < cps.size() && cps[i + 1] == "\n") {
      end += "\n";
      ++i;
    }
    if (keepends) line += end;
    out.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty()) out.push_back(std::move(line));
  return out;
}

std::string replace_all(std::string_view s, std::string_view old, std::string_view with, long long count) {
  std::string out;
  if (old.empty()) {
    // Python inserts `with` between code points (and at both ends).
    long long n = 0;
    auto cps = code_points(s);
    for (std::size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || n < count) {
        out += with;
        ++n;
      }
      if (i < cps.size()) out += cps[i];
    }
    return out;
  }
  std::size_t start = 0;
  long long n = 0;
  while (count < 0 || n < count) {
    std::size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out += s.substr(start, at - start);
    out += with;
    start = at + old.size();
    ++n;
  }
  out += s.substr(start);
  return out;
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

bool all_chars(std::string_view s, bool (*pred)(char32_t)) {
  if (s.empty()) return false;
  for (auto cp : code_points(s))
    if (!pred(decode(cp))) return false;
  return true;
}

}  // namespace finch::tokenizer::jinja
