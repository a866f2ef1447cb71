// Unicode helpers for the tokenizer: UTF-8 walking, character classes and
// normalization forms, all answered by utf8proc (no hand-made tables).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace finch::tokenizer::unicode {

// Decodes the code point at s[i] and advances i past it. The input must be
// valid UTF-8 (checked once by validate_utf8 where text enters).
char32_t next_code_point(std::string_view s, std::size_t& i);
void append_utf8(std::string& out, char32_t c);
std::size_t utf8_length(unsigned char lead);
std::size_t count_code_points(std::string_view s);
// True when `s` is well-formed UTF-8 (no surrogates, overlongs or truncation).
bool is_valid_utf8(std::string_view s);

// Rust's char predicates, which tokenizers uses.
bool is_whitespace(char32_t c);         // char::is_whitespace: the White_Space property
bool is_alphanumeric(char32_t c);       // char::is_alphanumeric: Alphabetic or N*
bool is_numeric(char32_t c);            // char::is_numeric: Nd, Nl, No
bool is_punctuation(char32_t c);        // P* (unicode_categories is_punctuation)
bool is_other(char32_t c);              // C*: Cc, Cf, Cs, Co, Cn
bool is_mark_nonspacing(char32_t c);    // Mn
bool is_mark(char32_t c);               // Mn, Mc, Me
bool is_word_char(char32_t c);          // regex \w: Alphabetic, M*, Nd, Pc, Join_Control

// Appends Rust's char::to_lowercase of c (full mapping, so U+0130 gives two code points).
void append_lowercase(std::string& out, char32_t c);

enum class Form { kNFC, kNFD, kNFKC, kNFKD };
std::string normalize(std::string_view s, Form form);

}  // namespace finch::tokenizer::unicode
