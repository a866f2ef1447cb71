// Parquet files through Arrow/Parquet C++, as rows of JSON objects equal to
// datasets' `to_list()` (pyarrow's to_pylist) where JSON can hold the value:
//   ints, floats (float32 widened exactly), bool, strings -> JSON scalars;
//   dictionary-encoded -> the decoded value; list / large_list / fixed_size_list
//   -> arrays; struct -> objects (field order kept); map -> [[key, value], ...].
// Python types JSON lacks are given as Python's str() of them, which is what
// a prompt template would print:
//   date -> "2024-01-31"; time -> "13:45:00" or "13:45:00.250000";
//   timestamp -> "2024-01-31 13:45:00[.ffffff|.fffffffff]" (pandas' form for
//   nanoseconds); with a time zone, the UTC instant shifted to a fixed offset
//   zone ("+05:30") or given in UTC for a named zone, plus the offset
//   ("+00:00"); duration -> "1 day, 2:03:04[.ffffff]"; decimal -> "1.50".
//   binary -> base64 text (standard alphabet, padded).
// NaN and infinities stay doubles (nlohmann writes them as null).
#pragma once

#include <filesystem>

#include "finch/data/table_reader.h"

namespace finch::data {

ReadStats read_parquet(const std::filesystem::path& file, const ReadOptions& options, const RowSink& sink);

}  // namespace finch::data
