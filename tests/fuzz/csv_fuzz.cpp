// libFuzzer target for the CSV table reader: any byte string must give
// rows or raise finch::Error (also with skip_bad_rows); a crash, hang,
// sanitizer report or any other exception (a failed FINCH_CHECK) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "finch/core/error.h"
#include "finch/data/table_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool skip : {false, true}) {
    try {
      finch::data::ReadOptions options{.skip_bad_rows = skip};
      int64_t rows = 0;
      const auto sink = [&](finch::data::Row&& row, const std::string&) {
        if (!row.is_object()) __builtin_trap();
        (void)row.dump();  // every value must serialize (valid UTF-8)
        ++rows;
      };
      const auto stats = finch::data::read_csv("fuzz.csv", text, options, sink);
      if (stats.rows != rows) __builtin_trap();
    } catch (const finch::Error&) {
    }
  }
  return 0;
}
