// read_table: dispatch on the file's extension. Kept apart from the readers so
// the text formats build without Arrow (the fuzz targets compile them alone).
#include <string_view>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/data/parquet_reader.h"
#include "finch/data/table_reader.h"

namespace finch::data {

ReadStats read_table(const std::filesystem::path& file, const ReadOptions& options, const RowSink& sink) {
  const auto format = table_format_of(file);
  if (!format)
    fail("{}: unknown data file type '{}' (expected .jsonl, .ndjson, .json, .csv or .parquet)", file.string(),
         file.extension().string());
  if (*format == TableFormat::parquet) return read_parquet(file, options, sink);
  const auto mapped = MappedFile::open(file);
  const std::string_view text(reinterpret_cast<const char*>(mapped->data()), mapped->size());
  const std::string name = file.string();
  switch (*format) {
    case TableFormat::jsonl: return read_json_lines(name, text, options, sink);
    case TableFormat::json: return read_json_document(name, text, options, sink);
    default: return read_csv(name, text, options, sink);
  }
}

}  // namespace finch::data
