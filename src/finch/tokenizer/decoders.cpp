// Decoders and post-processors of tokenizer.json, with the semantics of HF
// tokenizers (tokenizers/src/decoders/*.rs, processors/*.rs).
#include <memory>

#include "finch/core/error.h"
#include "finch/tokenizer/pipeline.h"
#include "finch/tokenizer/regex.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

namespace {

// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes one U+FFFD.
std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t n = bytes.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char lead = b[i];
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    }
    std::size_t good = 1;  // bytes of a valid prefix consumed so far
    bool ok = need > 0;
    for (std::size_t k = 1; ok && k <= need; ++k) {
      if (i + k >= n) {
        ok = false;
        break;
      }
      const unsigned char c = b[i + k];
      const bool in_range = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
      if (!in_range) {
        ok = false;
        break;
      }
      ++good;
    }
    if (ok) {
      out.append(bytes, i, need + 1);
      i += need + 1;
    } else {
      out += "\xEF\xBF\xBD";
      i += good;
    }
  }
  return out;
}

// ByteLevel decoder: a token whose characters are all in the byte map turns
// into those bytes, any other token stays as its UTF-8; then lossy UTF-8.
void byte_level_decode(std::vector<std::string>& tokens) {
  std::string bytes;
  for (const auto& t : tokens)
    if (!append_unicode_bytes(bytes, t)) bytes += t;
  tokens.assign(1, utf8_lossy(bytes));
}

std::string metaspace_scheme(const nlohmann::json& j, const std::string& where) {
  std::string scheme = value_or<std::string>(j, "prepend_scheme", "", where);
  if (scheme.empty()) scheme = value_or(j, "add_prefix_space", true, where) ? "always" : "never";
  return scheme;
}

std::string wordpiece_cleanup(std::string s) {
  static const std::pair<const char*, const char*> kRules[] = {
      {" .", "."},   {" ?", "?"},   {" !", "!"},         {" ,", ","},   {" ' ", "'"},   {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    const std::string f = from, t = to;
    std::string out;
    std::size_t last = 0;
    for (std::size_t pos = s.find(f); pos != std::string::npos; pos = s.find(f, last)) {
      out.append(s, last, pos - last);
      out += t;
      last = pos + f.size();
    }
    out.append(s, last, std::string::npos);
    s = std::move(out);
  }
  return s;
}

}  // namespace

Decoder make_decoder(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string type = stage_type(j, where);
  if (type == "Sequence") {
    auto parts = sequence_parts<Decoder>(j, "decoders", where, make_decoder);
    return [parts](std::vector<std::string>& tokens) {
      for (const auto& d : parts) d(tokens);
    };
  }
  if (type == "ByteLevel") return byte_level_decode;
  if (type == "Metaspace") {
    const std::string replacement = value_or<std::string>(j, "replacement", "\xE2\x96\x81", where);
    const bool strip_first = metaspace_scheme(j, where) != "never";
    return [replacement, strip_first](std::vector<std::string>& tokens) {
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        std::string out;
        const std::string& t = tokens[i];
        for (std::size_t p = 0; p < t.size();) {
          if (t.compare(p, replacement.size(), replacement) == 0) {
            if (!(i == 0 && strip_first)) out.push_back(' ');
            p += replacement.size();
          } else {
            out.push_back(t[p++]);
          }
        }
        tokens[i] = std::move(out);
      }
    };
  }
  if (type == "ByteFallback") {
    return [](std::vector<std::string>& tokens) {
      std::vector<std::string> out;
      std::string pending;
      auto flush = [&] {
        if (pending.empty()) return;
        if (unicode::is_valid_utf8(pending)) out.push_back(pending);
        else
          for (std::size_t k = 0; k < pending.size(); ++k) out.emplace_back("\xEF\xBF\xBD");
        pending.clear();
      };
      for (auto& t : tokens) {
        const bool is_byte = t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
                             std::isxdigit(static_cast<unsigned char>(t[3])) &&
                             std::isxdigit(static_cast<unsigned char>(t[4]));
        if (is_byte) {
          pending.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
        } else {
          flush();
          out.push_back(std::move(t));
        }
      }
      flush();
      tokens = std::move(out);
    };
  }
  if (type == "Fuse") {
    return [](std::vector<std::string>& tokens) {
      std::string all;
      for (const auto& t : tokens) all += t;
      tokens.assign(1, std::move(all));
    };
  }
  if (type == "Strip") {
    const std::string content = required(j, "content", where).get<std::string>();
    std::size_t i = 0;
    const char32_t c = unicode::next_code_point(content, i);
    const auto start = value_or<std::size_t>(j, "start", 0, where), stop = value_or<std::size_t>(j, "stop", 0, where);
    return [c, start, stop](std::vector<std::string>& tokens) {
      for (auto& t : tokens) {
        std::vector<char32_t> chars;
        for (std::size_t p = 0; p < t.size();) chars.push_back(unicode::next_code_point(t, p));
        std::size_t begin = 0, end = chars.size();
        for (std::size_t k = 0; k < start && k < chars.size() && chars[k] == c; ++k) begin = k + 1;
        for (std::size_t k = 0; k < stop && k < chars.size() && chars[chars.size() - k - 1] == c; ++k)
          end = chars.size() - k - 1;
        std::string out;
        for (std::size_t k = begin; k < end; ++k) unicode::append_utf8(out, chars[k]);
        t = std::move(out);
      }
    };
  }
  if (type == "Replace") {
    auto pattern = make_pattern(required(j, "pattern", where), where + ".pattern");
    const std::string content = required(j, "content", where).get<std::string>();
    return [pattern, content](std::vector<std::string>& tokens) {
      for (auto& t : tokens) t = replace_all(*pattern, t, content);
    };
  }
  if (type == "WordPiece") {
    const std::string prefix = value_or<std::string>(j, "prefix", "##", where);
    const bool cleanup = value_or(j, "cleanup", true, where);
    return [prefix, cleanup](std::vector<std::string>& tokens) {
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        auto& t = tokens[i];
        if (i != 0) t = t.compare(0, prefix.size(), prefix) == 0 ? t.substr(prefix.size()) : " " + t;
        if (cleanup) t = wordpiece_cleanup(std::move(t));
      }
    };
  }
  if (type == "BPEDecoder") {
    const std::string suffix = value_or<std::string>(j, "suffix", "</w>", where);
    return [suffix](std::vector<std::string>& tokens) {
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string with = i + 1 == tokens.size() ? "" : " ";
        auto& t = tokens[i];
        std::string out;
        std::size_t last = 0;
        for (std::size_t pos = t.find(suffix); !suffix.empty() && pos != std::string::npos; pos = t.find(suffix, last)) {
          out.append(t, last, pos - last);
          out += with;
          last = pos + suffix.size();
        }
        out.append(t, last, std::string::npos);
        t = std::move(out);
      }
    };
  }
  fail("{}: decoder type '{}' is not supported (supported: Sequence, ByteLevel, Metaspace, ByteFallback, Fuse, "
       "Strip, Replace, WordPiece, BPEDecoder)",
       where, type);
}

PostProcessor make_post_processor(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string type = stage_type(j, where);
  if (type == "Sequence") {
    auto parts = sequence_parts<PostProcessor>(j, "processors", where, make_post_processor);
    return [parts](std::vector<int32_t> ids) {
      for (const auto& p : parts) ids = p(std::move(ids));
      return ids;
    };
  }
  if (type == "ByteLevel") return [](std::vector<int32_t> ids) { return ids; };  // offsets only
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    // sep and cls are [token, id]: single sequence -> cls A sep.
    const auto cls = required(j, "cls", where).at(1).get<int32_t>();
    const auto sep = required(j, "sep", where).at(1).get<int32_t>();
    return [cls, sep](std::vector<int32_t> ids) {
      ids.insert(ids.begin(), cls);
      ids.push_back(sep);
      return ids;
    };
  }
  if (type == "TemplateProcessing") {
    // Items of the single-sequence template: {"Sequence": {"id": "A"}} or
    // {"SpecialToken": {"id": name}}, whose ids come from special_tokens.
    std::vector<std::vector<int32_t>> pieces;  // empty vector = the sequence itself
    const auto& specials = j.contains("special_tokens") ? j["special_tokens"] : nlohmann::json::object();
    const auto& single = required(j, "single", where);
    for (std::size_t i = 0; i < single.size(); ++i) {
      const auto& item = single[i];
      if (item.contains("Sequence")) {
        if (item["Sequence"].value("id", "A") != "A") fail("{}.single[{}]: a single template can only use $A", where, i);
        pieces.emplace_back();
      } else if (item.contains("SpecialToken")) {
        const std::string name = item["SpecialToken"].at("id").get<std::string>();
        if (!specials.contains(name)) fail("{}.single[{}]: special token '{}' missing from special_tokens", where, i, name);
        auto ids = specials[name].at("ids").get<std::vector<int32_t>>();
        if (ids.empty()) fail("{}.special_tokens.{}: no ids", where, name);
        pieces.push_back(std::move(ids));
      } else {
        fail("{}.single[{}]: expected Sequence or SpecialToken", where, i);
      }
    }
    return [pieces](std::vector<int32_t> ids) {
      std::vector<int32_t> out;
      out.reserve(ids.size() + 4);
      for (const auto& p : pieces) out.insert(out.end(), p.empty() ? ids.begin() : p.begin(), p.empty() ? ids.end() : p.end());
      return out;
    };
  }
  fail("{}: post-processor type '{}' is not supported (supported: Sequence, ByteLevel, TemplateProcessing, "
       "BertProcessing, RobertaProcessing)",
       where, type);
}

}  // namespace finch::tokenizer
