// The lexer follows jinja2's regex rules (jinja2/lexer.py) by hand: data up to
// the first tag; "{%-" strips the whitespace before it, lstrip_blocks removes
// spaces between a line start and "{%" / "{#"; "-%}" strips the whitespace
// after it and trim_blocks removes one newline after "%}" and "#}".
#include "finch/tokenizer/jinja/lexer.h"

#include <algorithm>
#include <cstdint>

#include "finch/core/error.h"
#include "finch/tokenizer/unicode.h"
#include "finch/tokenizer/jinja/value.h"

namespace finch::tokenizer::jinja {

bool is_python_space(std::string_view cp) {
  if (cp.size() == 1) {
    unsigned char c = cp[0];
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  }
  static constexpr std::string_view kWide[] = {
      "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81", "\xe2\x80\x82",
      "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86", "\xe2\x80\x87", "\xe2\x80\x88",
      "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f",
      "\xe3\x80\x80"};
  return std::find(std::begin(kWide), std::end(kWide), cp) != std::end(kWide);
}

std::string_view strip_python_space(std::string_view s, bool left, bool right) {
  auto cps = code_points(s);
  std::size_t b = 0, e = cps.size();
  if (left)
    while (b < e && is_python_space(cps[b])) ++b;
  if (right)
    while (e > b && is_python_space(cps[e - 1])) --e;
  if (b == e) return {};
  const char* start = cps[b].data();
  const char* end = cps[e - 1].data() + cps[e - 1].size();
  return {start, static_cast<std::size_t>(end - start)};
}

namespace {

class Lexer {
 public:
  Lexer(std::string source, const std::string& name) : src_(std::move(source)), name_(name) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      std::size_t tag = find_tag(pos_);
      if (tag == std::string::npos) {
        emit(Token::Type::Data, src_.substr(pos_), pos_);
        break;
      }
      char kind = src_[tag + 1];
      char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (sign != '-' && sign != '+') sign = '\0';
      std::size_t raw_body = kind == '%' ? match_raw_begin(tag) : std::string::npos;
      std::string text = src_.substr(pos_, tag - pos_);
      if (sign == '-') {
        text = std::string(strip_python_space(text, false, true));
      } else if (sign != '+' && kind != '{') {
        text = lstrip_line(text, line_starting);
      }
      if (!text.empty()) emit(Token::Type::Data, text, pos_);
      std::size_t after = tag + 2 + (sign ? 1 : 0);
      if (raw_body != std::string::npos) {
        line_starting = raw_body > 0 && src_[raw_body - 1] == '\n';
        pos_ = lex_raw(raw_body, tag, line_starting);
      } else if (kind == '#') {
        pos_ = lex_comment(after, tag, line_starting);
      } else {
        pos_ = lex_tag(after, tag, kind, line_starting);
      }
    }
    tokens_.push_back(Token{Token::Type::End, "", line_of(src_.size()), col_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void error(std::size_t at, const std::string& what) {
    fail("{}:{}:{}: {}", name_, line_of(at), col_of(at), what);
  }
  int line_of(std::size_t at) const {
    return static_cast<int>(std::upper_bound(line_starts_.begin(), line_starts_.end(), at) - line_starts_.begin());
  }
  int col_of(std::size_t at) const { return static_cast<int>(at - line_starts_[line_of(at) - 1]) + 1; }
  void emit(Token::Type type, std::string value, std::size_t at) {
    tokens_.push_back(Token{type, std::move(value), line_of(at), col_of(at)});
  }

  std::size_t find_tag(std::size_t from) const {
    for (std::size_t i = from; i + 1 < src_.size(); ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return std::string::npos;
  }

  // lstrip_blocks: drop the spaces between the line start and a block or comment tag.
  static std::string lstrip_line(const std::string& text, bool line_starting) {
    std::size_t l_pos = text.rfind('\n');
    l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
    if (l_pos == 0 && !line_starting) return text;
    std::string_view tail = std::string_view(text).substr(l_pos);
    if (tail.empty() || !strip_python_space(tail, true, false).empty()) return text;
    return text.substr(0, l_pos);
  }

  std::size_t skip_space(std::size_t i) const {
    while (i < src_.size()) {
      auto cps = code_points(std::string_view(src_).substr(i, 4));
      if (cps.empty() || !is_python_space(cps[0])) break;
      i += cps[0].size();
    }
    return i;
  }

  bool name_at(std::size_t i, std::string_view word) const {
    if (src_.compare(i, word.size(), word) != 0) return false;
    std::size_t j = i + word.size();
    return j >= src_.size() || !(std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_');
  }

  // "{%(-|+|)\s*raw\s*(-%}\s*|%})": returns where the raw text starts, or npos.
  std::size_t match_raw_begin(std::size_t tag) const {
    std::size_t i = tag + 2;
    if (i < src_.size() && (src_[i] == '-' || src_[i] == '+')) ++i;
    i = skip_space(i);
    if (!name_at(i, "raw")) return std::string::npos;
    i = skip_space(i + 3);
    if (src_.compare(i, 3, "-%}") == 0) return skip_space(i + 3);
    if (src_.compare(i, 2, "%}") == 0) return i + 2;
    return std::string::npos;
  }

  std::size_t lex_raw(std::size_t body, std::size_t tag, bool& line_starting) {
    for (std::size_t i = body; (i = src_.find("{%", i)) != std::string::npos; ++i) {
      std::size_t j = i + 2;
      char sign = j < src_.size() && (src_[j] == '-' || src_[j] == '+') ? src_[j] : '\0';
      if (sign) ++j;
      j = skip_space(j);
      if (!name_at(j, "endraw")) continue;
      j = skip_space(j + 6);
      std::size_t end = end_tag(j, '%');
      if (end == std::string::npos) continue;
      std::string text = src_.substr(body, i - body);
      if (sign == '-')
        text = std::string(strip_python_space(text, false, true));
      else if (sign != '+')
        text = lstrip_line(text, line_starting);
      if (!text.empty()) emit(Token::Type::Data, text, body);
      line_starting = src_[end - 1] == '\n';
      return end;
    }
    error(tag, "Missing end of raw directive");
  }

  // At i: "+X}", "-X}" + whitespace, or "X}" + one newline (trim_blocks; not for "}}").
  // Returns the position after it, or npos.
  std::size_t end_tag(std::size_t i, char kind) const {
    std::string close = std::string(1, kind) + "}";
    if (src_.compare(i, 1, "+") == 0 && src_.compare(i + 1, 2, close) == 0) return i + 3;
    if (src_.compare(i, 1, "-") == 0 && src_.compare(i + 1, 2, close) == 0) return skip_space(i + 3);
    if (src_.compare(i, 2, close) == 0) {
      i += 2;
      if (kind != '}' && i < src_.size() && src_[i] == '\n') ++i;
      return i;
    }
    return std::string::npos;
  }

  std::size_t lex_comment(std::size_t i, std::size_t tag, bool& line_starting) {
    for (std::size_t q = i; (q = src_.find("#}", q)) != std::string::npos; ++q) {
      std::size_t at = q;
      if (q > i && (src_[q - 1] == '-' || src_[q - 1] == '+')) at = q - 1;
      std::size_t end = end_tag(at, '#');
      line_starting = src_[end - 1] == '\n';
      return end;
    }
    error(tag, "Missing end of comment tag");
  }

  std::size_t lex_tag(std::size_t i, std::size_t tag, char kind, bool& line_starting) {
    char close = kind == '{' ? '}' : '%';
    emit(kind == '{' ? Token::Type::VarBegin : Token::Type::BlockBegin, "", tag);
    std::vector<char> balance;
    while (true) {
      if (i >= src_.size()) error(tag, kind == '{' ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'");
      if (balance.empty()) {
        std::size_t end = end_tag(i, close);
        if (end != std::string::npos) {
          emit(kind == '{' ? Token::Type::VarEnd : Token::Type::BlockEnd, "", i);
          line_starting = src_[end - 1] == '\n';
          return end;
        }
      }
      std::size_t next = skip_space(i);
      if (next != i) {
        i = next;
        continue;
      }
      i = lex_expression_token(i, balance);
    }
  }

  std::size_t lex_expression_token(std::size_t i, std::vector<char>& balance) {
    unsigned char c = src_[i];
    if (std::isdigit(c)) return lex_number(i);
    if (std::isalpha(c) || c == '_') {
      std::size_t j = i;
      while (j < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[j])) || src_[j] == '_')) ++j;
      emit(Token::Type::Name, src_.substr(i, j - i), i);
      return j;
    }
    if (c == '\'' || c == '"') return lex_string(i);
    static constexpr std::string_view kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
    for (std::string_view op : kTwo)
      if (src_.compare(i, 2, op) == 0) {
        emit(Token::Type::Op, std::string(op), i);
        return i + 2;
      }
    if (std::string_view("+-/*%~[](){}><=.:|,;").find(static_cast<char>(c)) == std::string_view::npos)
      error(i, "unexpected char '" + std::string(1, static_cast<char>(c)) + "'");
    if (c == '(' || c == '[' || c == '{') balance.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    if (c == ')' || c == ']' || c == '}') {
      if (balance.empty()) error(i, "unexpected '" + std::string(1, static_cast<char>(c)) + "'");
      if (balance.back() != c)
        error(i, "unexpected '" + std::string(1, static_cast<char>(c)) + "', expected '" + balance.back() + "'");
      balance.pop_back();
    }
    emit(Token::Type::Op, std::string(1, static_cast<char>(c)), i);
    return i + 1;
  }

  std::size_t digits(std::size_t i) const {
    // (\d+_)*\d+
    std::size_t j = i;
    while (j < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[j])) ||
                               (src_[j] == '_' && j + 1 < src_.size() && std::isdigit(static_cast<unsigned char>(src_[j + 1])))))
      ++j;
    return j;
  }

  std::size_t lex_number(std::size_t i) {
    std::size_t j = digits(i);
    bool is_float = false;
    if (j + 1 < src_.size() && src_[j] == '.' && std::isdigit(static_cast<unsigned char>(src_[j + 1]))) {
      j = digits(j + 1);
      is_float = true;
    }
    if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      std::size_t k = j + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        j = digits(k);
        is_float = true;
      }
    }
    std::string text;
    for (std::size_t k = i; k < j; ++k)
      if (src_[k] != '_') text += src_[k];
    emit(is_float ? Token::Type::Float : Token::Type::Int, text, i);
    return j;
  }

  // Python's unicode-escape decoding of the literal's body.
  std::size_t lex_string(std::size_t i) {
    char quote = src_[i];
    std::string out;
    std::size_t j = i + 1;
    while (true) {
      if (j >= src_.size()) error(i, "unexpected end of string");
      char c = src_[j];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++j;
        continue;
      }
      if (j + 1 >= src_.size()) error(i, "unexpected end of string");
      char e = src_[j + 1];
      j += 2;
      auto hex = [&](int n) -> std::uint32_t {
        if (j + n > src_.size()) error(i, "truncated \\x/\\u escape in a string");
        std::uint32_t v = 0;
        for (int k = 0; k < n; ++k) {
          char h = src_[j + k];
          if (!std::isxdigit(static_cast<unsigned char>(h))) error(i, "truncated \\x/\\u escape in a string");
          v = v * 16 + (std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        j += n;
        return v;
      };
      switch (e) {
        case '\n': break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case 'x': unicode::append_utf8(out, hex(2)); break;
        case 'u': unicode::append_utf8(out, hex(4)); break;
        case 'U': {
          std::uint32_t cp = hex(8);
          if (cp > 0x10FFFF) error(i, "illegal Unicode character in a string");
          unicode::append_utf8(out, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            std::uint32_t v = e - '0';
            for (int k = 0; k < 2 && j < src_.size() && src_[j] >= '0' && src_[j] <= '7'; ++k) v = v * 8 + (src_[j++] - '0');
            unicode::append_utf8(out, v);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    emit(Token::Type::String, out, i);
    return j + 1;
  }

  std::string src_;
  const std::string& name_;
  std::size_t pos_ = 0;
  std::vector<std::size_t> line_starts_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, const std::string& name) {
  // jinja2 normalises \r\n and \r to \n, then drops one trailing newline.
  std::string text;
  text.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      text += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      text += source[i];
    }
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return Lexer(std::move(text), name).run();
}

}  // namespace finch::tokenizer::jinja
