// A compiled PCRE2 pattern (UTF, Unicode properties, JIT) for tokenizer
// splits. A match limit bounds backtracking, so a hostile pattern in a
// tokenizer.json fails with an error instead of hanging.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace finch::tokenizer {

class Regex {
 public:
  // `where` names the pattern's origin in errors (file and key).
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Every match as byte ranges [begin, end), scanned left to right like
  // Oniguruma's find_iter (what tokenizers uses): an empty match right where
  // the previous match ended is skipped.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::string_view text) const;

  static std::string escape(std::string_view literal);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace finch::tokenizer
