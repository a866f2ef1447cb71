#include "finch/data/fast_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "finch/tokenizer/unicode.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace finch::data {
namespace {

using json = nlohmann::ordered_json;

constexpr int kMaxDepth = 256;
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// Whether any byte of `x` is below n (exact for n <= 128).
constexpr uint64_t has_less(uint64_t x, uint64_t n) { return (x - kOnes * n) & ~x & kHighs; }

// Length of the well-formed UTF-8 sequence at p (RFC 3629, as nlohmann
// checks it: no overlong forms, no surrogates, nothing past U+10FFFF), or 0.
size_t utf8_sequence(const uint8_t* p, const uint8_t* end) {
  const uint8_t c = p[0];
  const auto cont = [&](size_t i, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  Parser(std::string_view text, bool keep_strings)
      : p_(text.data()), end_(text.data() + text.size()), keep_strings_(keep_strings) {}

  bool document(json& out) {
    skip_space();
    if (!value(out, 0)) return false;
    skip_space();
    return p_ == end_;
  }

 private:
  const char* p_;
  const char* end_;
  const bool keep_strings_;  // false: string values are checked, then left empty

  void skip_space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool literal(const char* word, size_t n) {
    if (static_cast<size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  bool value(json& out, int depth) {
    if (p_ == end_ || depth > kMaxDepth) return false;
    switch (*p_) {
      case '{': return object(out, depth);
      case '[': return array(out, depth);
      case '"':
        out = json(json::value_t::string);
        return string(*out.get_ptr<json::string_t*>(), keep_strings_);
      case 't': out = true; return literal("true", 4);
      case 'f': out = false; return literal("false", 5);
      case 'n': out = nullptr; return literal("null", 4);
      default: return number(out);
    }
  }

  bool object(json& out, int depth) {
    ++p_;
    skip_space();
    out = json(json::value_t::object);
    auto& map = *out.get_ptr<json::object_t*>();
    if (p_ < end_ && *p_ == '}') return ++p_, true;
    std::string key;
    while (true) {
      if (p_ == end_ || *p_ != '"') return false;
      key.clear();
      if (!string(key)) return false;
      skip_space();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skip_space();
      // A repeated key: nlohmann keeps the first position and the last value; leave it to nlohmann.
      for (const auto& item : map)
        if (item.first == key) return false;
      map.emplace_back(key, json());
      if (!value(map.back().second, depth + 1)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == '}') return ++p_, true;
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }

  bool array(json& out, int depth) {
    ++p_;
    skip_space();
    out = json(json::value_t::array);
    auto& items = *out.get_ptr<json::array_t*>();
    if (p_ < end_ && *p_ == ']') return ++p_, true;
    while (true) {
      items.emplace_back();
      if (!value(items.back(), depth + 1)) return false;
      skip_space();
      if (p_ == end_) return false;
      if (*p_ == ']') return ++p_, true;
      if (*p_ != ',') return false;
      ++p_;
      skip_space();
    }
  }

  // The index of the first byte in [p, p + 16) that a string's fast loop
  // stops at (a quote, backslash, control or non-ASCII byte), or 16.
  static unsigned special16(const char* p) {
#if defined(__SSE2__)
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compare: bytes >= 0x80 are negative, so this also finds them.
    const __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
                                   _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(m));
    return mask ? static_cast<unsigned>(__builtin_ctz(mask)) : 16;
#else
    for (unsigned i = 0; i < 2; ++i) {
      uint64_t w;
      std::memcpy(&w, p + 8 * i, 8);
      // The lowest flagged byte is exact (borrows only run upward).
      const uint64_t m = has_less(w, 0x20) | has_less(w ^ (kOnes * '"'), 1) | has_less(w ^ (kOnes * '\\'), 1) | (w & kHighs);
      if (m) return 8 * i + static_cast<unsigned>(__builtin_ctzll(m)) / 8;
    }
    return 16;
#endif
  }

  // At the opening quote. Finds the closing one, checking the bytes between
  // (UTF-8, no control bytes), then copies them, decoding escapes, into s
  // (or, with keep false, checks the escapes only).
  bool string(std::string& s, bool keep = true) {
    const char* start = ++p_;
    bool escapes = false;
    while (true) {
      while (end_ - p_ >= 16) {
        const unsigned i = special16(p_);
        p_ += i;
        if (i < 16) break;
      }
      if (p_ == end_) return false;
      const auto c = static_cast<uint8_t>(*p_);
      if (c == '"') break;
      if (c == '\\') {
        escapes = true;
        if (end_ - p_ < 2) return false;
        p_ += 2;
      } else if (c < 0x20) {
        return false;
      } else if (c < 0x80) {
        ++p_;
      } else {
        const size_t n = utf8_sequence(reinterpret_cast<const uint8_t*>(p_), reinterpret_cast<const uint8_t*>(end_));
        if (n == 0) return false;
        p_ += n;
      }
    }
    const char* const stop = p_++;
    if (!escapes) {
      if (keep) s.append(start, stop);
      return true;
    }
    if (keep) s.reserve(s.size() + static_cast<size_t>(stop - start));
    std::string scratch;
    std::string& out = keep ? s : scratch;
    for (const char* q = start; q < stop;) {
      const auto* slash = static_cast<const char*>(std::memchr(q, '\\', static_cast<size_t>(stop - q)));
      if (slash == nullptr) slash = stop;
      if (keep) out.append(q, slash);
      if (slash == stop) break;
      q = slash;
      if (!escape(q, stop, out)) return false;
    }
    return true;
  }

  static bool hex4(const char*& q, const char* stop, uint32_t& cp) {
    if (stop - q < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hex_value(q[i]);
      if (h < 0) return false;
      cp = cp << 4 | static_cast<uint32_t>(h);
    }
    q += 4;
    return true;
  }

  // At the backslash of an escape that ends before `stop`; appends what it stands for.
  static bool escape(const char*& q, const char* stop, std::string& s) {
    ++q;
    switch (*q++) {
      case '"': s += '"'; return true;
      case '\\': s += '\\'; return true;
      case '/': s += '/'; return true;
      case 'b': s += '\b'; return true;
      case 'f': s += '\f'; return true;
      case 'n': s += '\n'; return true;
      case 'r': s += '\r'; return true;
      case 't': s += '\t'; return true;
      case 'u': break;
      default: return false;
    }
    uint32_t cp;
    if (!hex4(q, stop, cp)) return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low;
      if (stop - q < 2 || q[0] != '\\' || q[1] != 'u') return false;
      q += 2;
      if (!hex4(q, stop, low) || low < 0xDC00 || low > 0xDFFF) return false;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    tokenizer::unicode::append_utf8(s, cp);
    return true;
  }

  static bool digit(const char* p, const char* end) { return p < end && *p >= '0' && *p <= '9'; }

  // nlohmann's number types: no fraction or exponent gives an integer,
  // unsigned unless negative; one that overflows 64 bits becomes a float.
  bool number(json& out) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (!digit(p_, end_)) return false;
    if (*p_ == '0')
      ++p_;
    else
      while (digit(p_, end_)) ++p_;
    bool floating = false;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (!digit(p_, end_)) return false;
      while (digit(p_, end_)) ++p_;
      floating = true;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digit(p_, end_)) return false;
      while (digit(p_, end_)) ++p_;
      floating = true;
    }
    if (!floating) {
      if (negative) {
        int64_t v;
        const auto r = std::from_chars(start, p_, v);
        if (r.ec == std::errc() && r.ptr == p_) return out = v, true;
      } else {
        uint64_t v;
        const auto r = std::from_chars(start, p_, v);
        if (r.ec == std::errc() && r.ptr == p_) return out = v, true;
      }
    }
    // Both from_chars and strtod (nlohmann's) round correctly; anything out of range is nlohmann's call.
    double d;
    const auto r = std::from_chars(start, p_, d);
    if (r.ec != std::errc() || r.ptr != p_ || !std::isfinite(d)) return false;
    out = d;
    return true;
  }
};

}  // namespace

bool fast_parse_json(std::string_view text, json& out) { return Parser(text, true).document(out); }

bool fast_parse_json_skeleton(std::string_view text, json& out) { return Parser(text, false).document(out); }

bool split_json_array(std::string_view text, std::vector<std::string_view>& elements) {
  elements.clear();
  const char* p = text.data();
  const char* const end = p + text.size();
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (p < end && space(*p)) ++p;
  if (p == end || *p != '[') return false;
  const char* start = ++p;
  while (p < end && space(*p)) ++p;
  if (p < end && *p == ']') {
    for (++p; p < end && space(*p);) ++p;
    return p == end;
  }
  int64_t depth = 0;
  while (p < end) {
    const char c = *p;
    if (c == '"') {
      // Skip the string: to the next quote not escaped.
      for (++p; p < end && *p != '"';) p += *p == '\\' && p + 1 < end ? 2 : 1;
      if (p >= end) return false;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    } else if (depth == 0 && (c == ',' || c == ']')) {
      elements.emplace_back(start, static_cast<size_t>(p - start));
      start = p + 1;
      if (c == ']') {
        for (++p; p < end && space(*p);) ++p;
        return p == end;
      }
    } else if (depth == 0 && c == '}') {
      return false;
    }
    ++p;
  }
  return false;
}

}  // namespace finch::data
