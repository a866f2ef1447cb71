// libFuzzer target: tokenizer.json bytes -> Tokenizer -> encode and decode a
// few fixed strings. Any input may be refused with finch::Error; none may
// crash, hang or read out of bounds.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

#include "finch/core/error.h"
#include "finch/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    const auto tok = finch::tokenizer::Tokenizer::from_json(j, "fuzz");
    for (const char* text : {"", "ab <s> 123 ÄÖ  x\n\ty", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "\xF0\x9F\x98\x80 é"}) {
      const auto ids = tok.encode(text, true);
      tok.decode(ids, false);
      tok.decode(ids, true);
    }
  } catch (const finch::Error&) {
  }
  return 0;
}
