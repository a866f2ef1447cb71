// Pre-tokenizers of tokenizer.json with the semantics of HF tokenizers
// (tokenizers/src/pre_tokenizers/*.rs, NormalizedString::split).
#include <memory>

#include "finch/core/error.h"
#include "finch/tokenizer/pipeline.h"
#include "finch/tokenizer/regex.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior parse_behavior(const std::string& name, const std::string& where) {
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  fail("{}.behavior: unknown split behavior '{}' (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)",
       where, name);
}

// A piece of the input as a byte range, and whether the pattern matched it.
struct Span {
  std::size_t begin, end;
  bool match;
};
using Spans = std::vector<Span>;

// Turns matches into spans covering the whole text (Pattern::find_matches).
Spans spans_from_matches(const std::vector<std::pair<std::size_t, std::size_t>>& matches, std::size_t size) {
  Spans spans;
  std::size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) spans.push_back({prev, begin, false});
    spans.push_back({begin, end, true});
    prev = end;
  }
  if (prev != size) spans.push_back({prev, size, false});
  return spans;
}

// A character predicate as a pattern: each matching character is one match.
template <typename Pred>
Spans char_spans(const std::string& s, Pred&& pred) {
  Spans spans;
  std::size_t last = 0;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t begin = i;
    if (pred(unicode::next_code_point(s, i))) {
      if (last < begin) spans.push_back({last, begin, false});
      spans.push_back({begin, i, true});
      last = i;
    }
  }
  if (last < s.size()) spans.push_back({last, s.size(), false});
  return spans;
}

// NormalizedString::split: groups spans by behaviour, drops removed and empty ones.
void apply_behavior(const Split& piece, const Spans& spans, Behavior behavior, std::vector<Split>& out) {
  std::vector<std::pair<std::size_t, std::size_t>> kept;
  bool previous_match = false;
  switch (behavior) {
    case Behavior::kIsolated:
      for (const auto& s : spans) kept.emplace_back(s.begin, s.end);
      break;
    case Behavior::kRemoved:
      for (const auto& s : spans)
        if (!s.match) kept.emplace_back(s.begin, s.end);
      break;
    case Behavior::kContiguous:
      for (const auto& s : spans) {
        if (s.match == previous_match && !kept.empty()) kept.back().second = s.end;
        else kept.emplace_back(s.begin, s.end);
        previous_match = s.match;
      }
      break;
    case Behavior::kMergedWithPrevious:
      for (const auto& s : spans) {
        if (s.match && !previous_match && !kept.empty()) kept.back().second = s.end;
        else kept.emplace_back(s.begin, s.end);
        previous_match = s.match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous_match && !kept.empty()) kept.back().first = it->begin;
        else kept.emplace_back(it->begin, it->end);
        previous_match = it->match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
  }
  for (const auto& [begin, end] : kept)
    if (end > begin) out.push_back({piece.text.substr(begin, end - begin), piece.at_start && begin == 0});
}

// Applies `split_one(piece, out)` to every piece.
template <typename Fn>
void split_all(std::vector<Split>& pieces, Fn&& split_one) {
  std::vector<Split> out;
  out.reserve(pieces.size() * 2);
  for (const auto& piece : pieces) split_one(piece, out);
  pieces = std::move(out);
}

PreTokenizer split_on_chars(bool (*pred)(char32_t), Behavior behavior) {
  return [pred, behavior](std::vector<Split>& pieces) {
    split_all(pieces, [&](const Split& p, std::vector<Split>& out) {
      apply_behavior(p, char_spans(p.text, pred), behavior, out);
    });
  };
}

bool is_bert_punctuation(char32_t c) {
  return (c < 0x80 && std::ispunct(static_cast<int>(c))) || unicode::is_punctuation(c);
}

// GPT-2's pattern, which ByteLevel applies when use_regex is true.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

PreTokenizer byte_level(const nlohmann::json& j, const std::string& where) {
  const bool add_prefix_space = value_or(j, "add_prefix_space", true, where);
  const bool use_regex = value_or(j, "use_regex", true, where);
  std::shared_ptr<Regex> regex = use_regex ? std::make_shared<Regex>(kGpt2Pattern, where) : nullptr;
  return [=](std::vector<Split>& pieces) {
    split_all(pieces, [&](const Split& p, std::vector<Split>& out) {
      Split prefixed = p;
      if (add_prefix_space && (p.text.empty() || p.text[0] != ' ')) prefixed.text.insert(0, " ");
      const std::size_t first = out.size();
      if (regex) {
        apply_behavior(prefixed, spans_from_matches(regex->find_all(prefixed.text), prefixed.text.size()),
                       Behavior::kIsolated, out);
      } else if (!prefixed.text.empty()) {
        out.push_back(std::move(prefixed));
      }
      for (std::size_t k = first; k < out.size(); ++k) {
        std::string mapped;
        mapped.reserve(out[k].text.size() * 2);
        for (unsigned char b : out[k].text) mapped += byte_to_unicode(b);
        out[k].text = std::move(mapped);
      }
    });
  };
}

PreTokenizer metaspace(const nlohmann::json& j, const std::string& where) {
  const std::string replacement = value_or<std::string>(j, "replacement", "\xE2\x96\x81", where);
  if (unicode::count_code_points(replacement) != 1) fail("{}.replacement: expected one character", where);
  // prepend_scheme (always | never | first); older files say add_prefix_space.
  std::string scheme = value_or<std::string>(j, "prepend_scheme", "", where);
  if (scheme.empty()) scheme = value_or(j, "add_prefix_space", true, where) ? "always" : "never";
  if (scheme != "always" && scheme != "never" && scheme != "first")
    fail("{}.prepend_scheme: expected always, never or first, got '{}'", where, scheme);
  const bool split = value_or(j, "split", true, where);
  std::size_t first = 0;
  const char32_t mark = unicode::next_code_point(replacement, first);
  return [=](std::vector<Split>& pieces) {
    split_all(pieces, [&](const Split& p, std::vector<Split>& out) {
      Split piece{std::string(), p.at_start};
      for (char c : p.text) {
        if (c == ' ') piece.text += replacement;
        else piece.text.push_back(c);
      }
      const bool starts = piece.text.compare(0, replacement.size(), replacement) == 0;
      if (!starts && (scheme == "always" || (scheme == "first" && p.at_start))) piece.text.insert(0, replacement);
      if (!split) {
        if (!piece.text.empty()) out.push_back(std::move(piece));
        return;
      }
      apply_behavior(piece, char_spans(piece.text, [mark](char32_t c) { return c == mark; }),
                     Behavior::kMergedWithNext, out);
    });
  };
}

}  // namespace

PreTokenizer make_pre_tokenizer(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string type = stage_type(j, where);
  if (type == "Sequence") {
    auto parts = sequence_parts<PreTokenizer>(j, "pretokenizers", where, make_pre_tokenizer);
    return [parts](std::vector<Split>& pieces) {
      for (const auto& p : parts) p(pieces);
    };
  }
  if (type == "ByteLevel") return byte_level(j, where);
  if (type == "Split") {
    auto pattern = make_pattern(required(j, "pattern", where), where + ".pattern");
    const Behavior behavior = parse_behavior(required(j, "behavior", where).get<std::string>(), where);
    const bool invert = value_or(j, "invert", false, where);
    return [=](std::vector<Split>& pieces) {
      split_all(pieces, [&](const Split& p, std::vector<Split>& out) {
        Spans spans = spans_from_matches(pattern->find_all(p.text), p.text.size());
        if (invert)
          for (auto& s : spans) s.match = !s.match;
        apply_behavior(p, spans, behavior, out);
      });
    };
  }
  if (type == "Digits") {
    const bool individual = value_or(j, "individual_digits", false, where);
    return split_on_chars(unicode::is_numeric, individual ? Behavior::kIsolated : Behavior::kContiguous);
  }
  if (type == "Metaspace") return metaspace(j, where);
  if (type == "WhitespaceSplit") return split_on_chars(unicode::is_whitespace, Behavior::kRemoved);
  if (type == "Whitespace") {
    // The regex \w+|[^\w\s]+ (Rust regex, Unicode \w): runs of word characters or
    // of other non-space characters; whitespace between them is dropped.
    return [](std::vector<Split>& pieces) {
      split_all(pieces, [](const Split& p, std::vector<Split>& out) {
        Spans spans;
        int run = -1;  // 0: word run, 1: other run, -1: none
        std::size_t run_begin = 0;
        for (std::size_t i = 0; i < p.text.size();) {
          const std::size_t begin = i;
          const char32_t c = unicode::next_code_point(p.text, i);
          const int kind = unicode::is_whitespace(c) ? -1 : unicode::is_word_char(c) ? 0 : 1;
          if (kind != run) {
            if (run >= 0) spans.push_back({run_begin, begin, true});
            run = kind;
            run_begin = begin;
          }
        }
        if (run >= 0) spans.push_back({run_begin, p.text.size(), true});
        for (const auto& s : spans) out.push_back({p.text.substr(s.begin, s.end - s.begin), p.at_start && s.begin == 0});
      });
    };
  }
  if (type == "Punctuation") {
    const Behavior behavior =
        parse_behavior(value_or<std::string>(j, "behavior", "Isolated", where), where);
    return split_on_chars(is_bert_punctuation, behavior);
  }
  if (type == "BertPreTokenizer") {
    return [](std::vector<Split>& pieces) {
      split_all(pieces, [](const Split& p, std::vector<Split>& out) {
        std::vector<Split> words;
        apply_behavior(p, char_spans(p.text, unicode::is_whitespace), Behavior::kRemoved, words);
        for (const auto& w : words) apply_behavior(w, char_spans(w.text, is_bert_punctuation), Behavior::kIsolated, out);
      });
    };
  }
  if (type == "CharDelimiterSplit") {
    const std::string delimiter = required(j, "delimiter", where).get<std::string>();
    std::size_t i = 0;
    const char32_t d = unicode::next_code_point(delimiter, i);
    return [d](std::vector<Split>& pieces) {
      split_all(pieces, [d](const Split& p, std::vector<Split>& out) {
        apply_behavior(p, char_spans(p.text, [d](char32_t c) { return c == d; }), Behavior::kRemoved, out);
      });
    };
  }
  fail("{}: pre-tokenizer type '{}' is not supported (supported: Sequence, ByteLevel, Split, Digits, Metaspace, "
       "Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer, CharDelimiterSplit)",
       where, type);
}

}  // namespace finch::tokenizer
