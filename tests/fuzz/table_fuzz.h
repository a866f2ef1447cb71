// What every table-reader fuzz target checks: the reader, with and without
// skip_bad_rows, gives object rows that serialize (valid UTF-8) and counts
// them right, or raises finch::Error; a crash, hang, sanitizer report or any
// other exception (a failed FINCH_CHECK) is a bug.
#pragma once

#include <cstdint>
#include <string>

#include "finch/core/error.h"
#include "finch/data/table_reader.h"

// read(options, sink) -> ReadStats
template <typename Read>
void fuzz_table_reader(Read read) {
  for (bool skip : {false, true}) {
    try {
      finch::data::ReadOptions options{.skip_bad_rows = skip};
      int64_t rows = 0;
      const finch::data::RowSink sink = [&](finch::data::Row&& row, const std::string&) {
        if (!row.is_object()) __builtin_trap();
        (void)row.dump();
        ++rows;
      };
      const auto stats = read(options, sink);
      if (stats.rows != rows) __builtin_trap();
    } catch (const finch::Error&) {
    }
  }
}
