#include "finch/tokenizer/pipeline.h"

#include <array>

#include "finch/core/error.h"
#include "finch/tokenizer/unicode.h"

namespace finch::tokenizer {

void throw_type_error(const std::string& where, const char* key, const char* got) {
  fail("{}.{}: wrong type ({})", where, key, got);
}

const nlohmann::json& required(const nlohmann::json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) fail("{}: missing key '{}'", where, key);
  return *it;
}

std::string stage_type(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail("{}: expected an object", where);
  return value_or<std::string>(j, "type", "", where);
}

namespace {
// GPT-2: printable Latin-1 bytes stand for themselves, the other 68 are
// shifted to U+0100.. in byte order, so every byte has a visible character.
struct ByteMap {
  std::array<std::string, 256> to_unicode;
  std::array<int, 324> from_unicode{};  // code point -> byte, -1 when not in the map
  ByteMap() {
    from_unicode.fill(-1);
    int shifted = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + shifted++);
      unicode::append_utf8(to_unicode[b], c);
      from_unicode[c] = b;
    }
  }
};
const ByteMap& byte_map() {
  static const ByteMap map;
  return map;
}
}  // namespace

const std::string& byte_to_unicode(uint8_t byte) { return byte_map().to_unicode[byte]; }

bool append_unicode_bytes(std::string& out, const std::string& text) {
  const auto& map = byte_map();
  const std::size_t size = out.size();
  for (std::size_t i = 0; i < text.size();) {
    const char32_t c = unicode::next_code_point(text, i);
    if (c >= map.from_unicode.size() || map.from_unicode[c] < 0) {
      out.resize(size);
      return false;
    }
    out.push_back(static_cast<char>(map.from_unicode[c]));
  }
  return true;
}

}  // namespace finch::tokenizer
