// libFuzzer target for the CSV table reader: any byte string must give
// rows or raise finch::Error (also with skip_bad_rows); a crash, hang,
// sanitizer report or any other exception (a failed FINCH_CHECK) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "table_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz_table_reader([&](const auto& options, const auto& sink) {
    return finch::data::read_csv("fuzz.csv", text, options, sink);
  });
  return 0;
}
