// Normalizers of tokenizer.json, with the semantics of HF tokenizers
// (tokenizers/src/normalizers/*.rs). Offsets are not tracked: finch needs ids.
#include <memory>

#include "finch/core/error.h"
#include "finch/tokenizer/pipeline.h"
#include "finch/tokenizer/regex.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

namespace {
using unicode::next_code_point;

// Rebuilds `s` code point by code point: `fn(c, out)` appends what c becomes.
template <typename Fn>
void map_chars(std::string& s, Fn&& fn) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (std::size_t i = 0; i < s.size();) fn(next_code_point(s, i), out);
  s = std::move(out);
}

void lowercase(std::string& s) {
  map_chars(s, [](char32_t c, std::string& out) { unicode::append_lowercase(out, c); });
}

bool is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void strip_whitespace(std::string& s, bool left, bool right) {
  std::size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end) {
      std::size_t i = begin;
      if (!unicode::is_whitespace(next_code_point(s, i))) break;
      begin = i;
    }
  }
  if (right) {
    while (end > begin) {
      std::size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
      std::size_t i = start;
      if (!unicode::is_whitespace(next_code_point(s, i))) break;
      end = start;
    }
  }
  s = s.substr(begin, end - begin);
}

Normalizer bert_normalizer(const nlohmann::json& j, const std::string& where) {
  const bool clean_text = value_or(j, "clean_text", true, where);
  const bool chinese = value_or(j, "handle_chinese_chars", true, where);
  const bool lower = value_or(j, "lowercase", true, where);
  // strip_accents: null follows lowercase (BERT's original behaviour).
  const bool strip_accents = value_or(j, "strip_accents", lower, where);
  return [=](std::string& s) {
    if (clean_text) {
      map_chars(s, [](char32_t c, std::string& out) {
        if (c == 0 || c == 0xFFFD) return;
        const bool space = c == '\t' || c == '\n' || c == '\r' || unicode::is_whitespace(c);
        if (!space && unicode::is_other(c)) return;
        unicode::append_utf8(out, space ? U' ' : c);
      });
    }
    if (chinese) {
      map_chars(s, [](char32_t c, std::string& out) {
        if (!is_chinese_char(c)) return unicode::append_utf8(out, c);
        out.push_back(' ');
        unicode::append_utf8(out, c);
        out.push_back(' ');
      });
    }
    if (strip_accents) {
      s = unicode::normalize(s, unicode::Form::kNFD);
      map_chars(s, [](char32_t c, std::string& out) {
        if (!unicode::is_mark_nonspacing(c)) unicode::append_utf8(out, c);
      });
    }
    if (lower) lowercase(s);
  };
}

}  // namespace

std::shared_ptr<Regex> make_pattern(const nlohmann::json& j, const std::string& where) {
  if (j.contains("String")) return std::make_shared<Regex>(Regex::escape(j["String"].get<std::string>()), where);
  if (j.contains("Regex")) return std::make_shared<Regex>(j["Regex"].get<std::string>(), where);
  fail("{}: pattern must be {{\"String\": ...}} or {{\"Regex\": ...}}", where);
}

std::string replace_all(const Regex& pattern, const std::string& s, const std::string& content) {
  std::string out;
  std::size_t last = 0;
  for (const auto& [begin, end] : pattern.find_all(s)) {
    out.append(s, last, begin - last);
    out += content;
    last = end;
  }
  out.append(s, last, std::string::npos);
  return out;
}

Normalizer make_normalizer(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string type = stage_type(j, where);
  if (type == "Sequence") {
    auto parts = sequence_parts<Normalizer>(j, "normalizers", where, make_normalizer);
    return [parts](std::string& s) {
      for (const auto& n : parts) n(s);
    };
  }
  if (type == "NFC") return [](std::string& s) { s = unicode::normalize(s, unicode::Form::kNFC); };
  if (type == "NFD") return [](std::string& s) { s = unicode::normalize(s, unicode::Form::kNFD); };
  if (type == "NFKC") return [](std::string& s) { s = unicode::normalize(s, unicode::Form::kNFKC); };
  if (type == "NFKD") return [](std::string& s) { s = unicode::normalize(s, unicode::Form::kNFKD); };
  if (type == "Lowercase") return lowercase;
  if (type == "StripAccents") {
    return [](std::string& s) {
      map_chars(s, [](char32_t c, std::string& out) {
        if (!unicode::is_mark(c)) unicode::append_utf8(out, c);
      });
    };
  }
  if (type == "BertNormalizer") return bert_normalizer(j, where);
  if (type == "Prepend") {
    const std::string prepend = required(j, "prepend", where).get<std::string>();
    return [prepend](std::string& s) {
      if (!s.empty()) s.insert(0, prepend);
    };
  }
  if (type == "Replace") {
    auto pattern = make_pattern(required(j, "pattern", where), where + ".pattern");
    const std::string content = required(j, "content", where).get<std::string>();
    return [pattern, content](std::string& s) { s = replace_all(*pattern, s, content); };
  }
  if (type == "Strip") {
    const bool left = value_or(j, "strip_left", true, where), right = value_or(j, "strip_right", true, where);
    return [left, right](std::string& s) { strip_whitespace(s, left, right); };
  }
  fail("{}: normalizer type '{}' is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, "
       "StripAccents, BertNormalizer, Prepend, Replace, Strip)",
       where, type);
}

}  // namespace finch::tokenizer
