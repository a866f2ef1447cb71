// Table readers: local data files (JSON Lines, JSON, CSV, Parquet) as rows of
// JSON objects, equal to what Hugging Face `datasets.load_dataset(<format>,
// data_files=...)` gives (`ds.to_list()`), which is the reference.
//
// JSON and JSON Lines: datasets reads them through pyarrow, which unifies each
// column over the file: top-level keys are the union in order of first
// appearance (a missing key is null), a number column holding any float (or an
// integer beyond int64) is float throughout, and a struct's keys follow the
// first row. A column whose values mix kinds (number and string, objects with
// different keys...) datasets keeps as the original JSON values (its `Json`
// feature); so do we. CSV: pandas' type inference (see csv_reader.cpp).
// Parquet: parquet_reader.h. Files are read whole-file (two passes over a
// mapped file), where datasets infers per 10 MB chunk; they agree unless a
// chunk's types disagree with a later one's, which datasets turns into an error.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace finch::data {

using Row = nlohmann::ordered_json;

enum class TableFormat { jsonl, json, csv, parquet };

// By extension: .jsonl/.ndjson, .json, .csv, .parquet (case-insensitive).
std::optional<TableFormat> table_format_of(const std::filesystem::path& file);

struct ReadOptions {
  bool skip_bad_rows = false;  // count bad rows in ReadStats instead of failing
};

struct ReadStats {
  int64_t rows = 0;      // rows given to the sink
  int64_t bad_rows = 0;  // rows skipped (skip_bad_rows only)
  std::string first_bad_row;  // the error message of the first one
};

// `where` names the row for error messages, e.g. "data.jsonl:17" or "x.parquet row 1234".
using RowSink = std::function<void(Row&& row, const std::string& where)>;

// Reads any supported file (dispatch on table_format_of; an unknown extension
// is an error). An empty file gives 0 rows and no error: the caller decides.
ReadStats read_table(const std::filesystem::path& file, const ReadOptions& options, const RowSink& sink);

// The text formats from memory; `name` is the file name used in messages.
// These need neither Arrow nor libtorch (the fuzz targets call them).
// JSON Lines: one object per line, blank lines skipped.
ReadStats read_json_lines(std::string_view name, std::string_view text, const ReadOptions& options,
                          const RowSink& sink);
// .json: JSON Lines, or one top-level array (of objects; of strings, each
// becoming {"text": s}), or one top-level object (a single row).
ReadStats read_json_document(std::string_view name, std::string_view text, const ReadOptions& options,
                             const RowSink& sink);
// CSV: RFC 4180 with a header row; typed per column like pandas.read_csv.
ReadStats read_csv(std::string_view name, std::string_view text, const ReadOptions& options, const RowSink& sink);

}  // namespace finch::data
