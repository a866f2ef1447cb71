#define PCRE2_CODE_UNIT_WIDTH 8
#include "finch/tokenizer/regex.h"

#include <pcre2.h>

#include "finch/core/error.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

namespace {
// Generous for real patterns (each is linear), small enough that a
// catastrophic pattern gives up in well under a second.
constexpr uint32_t kMatchLimit = 10'000'000;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// Room for the whole match only: finch never reads groups, and one block per
// thread serves every pattern (a match with more groups returns 0, still a match).
struct MatchData {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  ~MatchData() { pcre2_match_data_free(data); }
};
}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  pcre2_match_context* context = nullptr;
  std::string where;
  ~Impl() {
    pcre2_match_context_free(context);
    pcre2_code_free(code);
  }
};

Regex::Regex(const std::string& pattern, const std::string& where) : impl_(std::make_unique<Impl>()) {
  impl_->where = where;
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
  if (impl_->code == nullptr)
    fail("{}: bad regex at offset {}: {} (pattern {})", where, offset, pcre2_message(error), pattern);
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter where JIT is unavailable
  impl_->context = pcre2_match_context_create(nullptr);
  pcre2_set_match_limit(impl_->context, kMatchLimit);
}

Regex::~Regex() = default;

std::vector<std::pair<std::size_t, std::size_t>> Regex::find_all(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> matches;
  thread_local MatchData scratch;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t start = 0;
  std::size_t last_match_end = std::string_view::npos;
  while (start <= text.size()) {
    const int rc = pcre2_match(impl_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK, scratch.data,
                               impl_->context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) fail("{}: regex match failed: {}", impl_->where, pcre2_message(rc));
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.data);
    const std::size_t begin = ovector[0], end = ovector[1];
    if (begin == end) {
      // Empty match: keep it unless it touches the previous match, then step one character on.
      if (end != last_match_end) matches.emplace_back(begin, end);
      last_match_end = end;
      if (end >= text.size()) break;
      start = end + unicode::utf8_length(static_cast<unsigned char>(text[end]));
      continue;
    }
    matches.emplace_back(begin, end);
    start = end;
    last_match_end = end;
  }
  return matches;
}

std::string Regex::escape(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-#&~ ").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace finch::tokenizer
