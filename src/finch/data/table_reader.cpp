// JSON Lines and JSON documents (see table_reader.h for the semantics). Two
// passes over the text: the first parses every row and infers the column
// shapes (json_shape.h), the second parses again and gives each row in those
// shapes. Bad rows fail or are skipped in the first pass, so with
// skip_bad_rows off nothing reaches the sink from a file that has one.
#include "finch/data/table_reader.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "finch/core/error.h"
#include "finch/data/json_shape.h"
#include "finch/data/text_util.h"

namespace finch::data {
namespace {

using json = nlohmann::ordered_json;

const char* type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    default: return "a number";
  }
}

bool blank(std::string_view line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// One physical line of a JSON Lines text.
struct Line {
  std::string_view text;
  int64_t number;  // 1-based
};

template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  int64_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const char* start = text.data() + pos;
    const void* nl = std::memchr(start, '\n', text.size() - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
    ++number;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!blank(line)) visit(Line{line, number});
  }
}

// Parses one row; an error is one line naming `where`.
json parse_row(std::string_view text, const std::string& where) {
  json value;
  try {
    value = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    fail("{}: not valid JSON: {}", where, clean_json_error(e.what()));
  }
  if (!value.is_object()) fail("{}: expected a JSON object per row, got {}", where, type_name(value));
  return value;
}

// The two passes over rows produced by `rows(visit)`, where visit(parse) is
// called once per row with its location and a function parsing it.
template <typename Rows>
ReadStats read_rows(const ReadOptions& options, const RowSink& sink, Rows&& rows) {
  ReadStats stats;
  JsonShape shape;
  shape.kind = JsonShape::Kind::object;
  std::vector<int64_t> bad;  // indices of skipped rows
  int64_t index = 0;
  rows([&](const std::string& where, auto&& parse) {
    try {
      shape.merge_row(parse());
    } catch (const Error& e) {
      if (!options.skip_bad_rows) throw;
      if (stats.bad_rows++ == 0) stats.first_bad_row = e.what();
      bad.push_back(index);
    }
    ++index;
  });
  index = 0;
  size_t next_bad = 0;
  rows([&](const std::string& where, auto&& parse) {
    if (next_bad < bad.size() && bad[next_bad] == index++) {
      ++next_bad;
      return;
    }
    sink(shape.apply_row(parse()), where);
    ++stats.rows;
  });
  return stats;
}

std::string_view strip_bom(std::string_view text) {
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
  return text;
}

}  // namespace

std::optional<TableFormat> table_format_of(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".jsonl" || ext == ".ndjson") return TableFormat::jsonl;
  if (ext == ".json") return TableFormat::json;
  if (ext == ".csv") return TableFormat::csv;
  if (ext == ".parquet") return TableFormat::parquet;
  return std::nullopt;
}

ReadStats read_json_lines(std::string_view name, std::string_view text, const ReadOptions& options,
                          const RowSink& sink) {
  text = strip_bom(text);
  return read_rows(options, sink, [&](auto&& visit) {
    std::string where;
    for_each_line(text, [&](const Line& line) {
      where = fmt::format("{}:{}", name, line.number);
      visit(where, [&] { return parse_row(line.text, where); });
    });
  });
}

ReadStats read_json_document(std::string_view name, std::string_view text, const ReadOptions& options,
                             const RowSink& sink) {
  text = strip_bom(text);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  if (text[first] != '[') {
    // One object over several lines is one row; anything else is JSON Lines.
    json whole = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!whole.is_object()) return read_json_lines(name, text, options, sink);
    return read_rows(options, sink, [&](auto&& visit) {
      const std::string where = fmt::format("{}:1", name);
      visit(where, [&] { return json(whole); });
    });
  }
  // A top-level array: the whole document must parse.
  json array;
  try {
    array = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    fail("{}: not valid JSON: {}", name, clean_json_error(e.what()));
  }
  // datasets reads an array of objects as rows and wraps anything else as {"text": item}.
  const bool objects = !array.empty() && array.front().is_object();
  return read_rows(options, sink, [&](auto&& visit) {
    std::string where;
    for (size_t i = 0; i < array.size(); ++i) {
      where = fmt::format("{} row {}", name, i + 1);
      visit(where, [&]() -> json {
        if (!objects) return json{{"text", array[i]}};
        if (!array[i].is_object()) fail("{}: expected a JSON object per row, got {}", where, type_name(array[i]));
        return array[i];
      });
    }
  });
}

}  // namespace finch::data
