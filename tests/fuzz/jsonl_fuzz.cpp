// libFuzzer target for the JSON Lines / JSON table reader: any byte string must give
// rows or raise finch::Error (also with skip_bad_rows); a crash, hang,
// sanitizer report or any other exception (a failed FINCH_CHECK) is a bug.
// Also differential: where the fast JSON parser takes the input, nlohmann must
// parse it to the same value (same types, key order and bytes).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "finch/data/fast_json.h"
#include "table_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::ordered_json fast;
  if (finch::data::fast_parse_json(text, fast)) {
    const auto reference = nlohmann::ordered_json::parse(text.begin(), text.end(), nullptr, false);
    // dump() shows types apart (1 vs 1.0) but not 1 vs 1u: compare those too.
    if (reference.is_discarded() || reference.dump() != fast.dump() || reference != fast) __builtin_trap();
  }
  fuzz_table_reader([&](const auto& options, const auto& sink) {
    return size % 2 ? finch::data::read_json_document("fuzz.json", text, options, sink)
                    : finch::data::read_json_lines("fuzz.jsonl", text, options, sink);
  });
  return 0;
}
