// CSV as datasets reads it: pandas.read_csv with its defaults, then Arrow.
// RFC 4180 records (quoted fields, "" inside quotes, embedded newlines, LF,
// CRLF or CR line ends), the first non-blank record is the header (empty names
// become "Unnamed: i", repeats "a.1", "a.2"), blank lines are skipped, a short
// row is padded with nulls. Cells typed per column over the whole file:
//   - empty or one of pandas' NA strings ("NA", "null", "nan", "N/A", ...) -> null
//   - all integers: int64 (uint64 past int64); with any null the column is float
//   - all numbers: float; all True/true/TRUE/False/false/FALSE: bool (nulls kept)
//   - anything else: the cells' text, as written.
// Deliberate differences, documented in docs and tests: a row with more fields
// than the header is a bad row (pandas fails, or with all rows long, turns the
// first column into an index); floats are correctly rounded (pandas' default
// parser can differ in the last bit for > 17 significant digits); integers past
// 64 bits make the column float (pandas keeps Python ints, which Arrow rejects).
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <vector>

#include "finch/core/error.h"
#include "finch/data/table_reader.h"
#include "finch/data/text_util.h"

namespace finch::data {
namespace {

constexpr std::string_view kNaValues[] = {"",     "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN",
                                          "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",     "NA",       "NULL",
                                          "NaN",  "None", "n/a",    "nan",  "null"};

bool is_na(std::string_view cell) {
  for (auto na : kNaValues)
    if (cell == na) return true;
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

enum class IntParse { no, int64, uint64, too_big };

IntParse parse_int(std::string_view cell, int64_t& i, uint64_t& u) {
  std::string_view s = trim(cell);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) negative = s.front() == '-', s.remove_prefix(1);
  if (s.empty()) return IntParse::no;
  uint64_t value = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return IntParse::no;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - d) / 10) overflow = true;
    value = value * 10 + d;
  }
  if (overflow) return IntParse::too_big;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (value > kMax + 1) return IntParse::too_big;
    i = value == kMax + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(value);
    return IntParse::int64;
  }
  if (value > kMax) {
    u = value;
    return IntParse::uint64;
  }
  i = static_cast<int64_t>(value);
  return IntParse::int64;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(a[k])) != b[k]) return false;
  return true;
}

// [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?, or [+-]? inf(inity).
bool parse_float(std::string_view cell, double& out) {
  std::string_view s = trim(cell);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) negative = s.front() == '-', s.remove_prefix(1);
  if (iequals(s, "inf") || iequals(s, "infinity")) {
    out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  size_t k = 0, digits = 0;
  while (k < s.size() && s[k] >= '0' && s[k] <= '9') ++k, ++digits;
  if (k < s.size() && s[k] == '.') {
    ++k;
    while (k < s.size() && s[k] >= '0' && s[k] <= '9') ++k, ++digits;
  }
  if (digits == 0) return false;
  if (k < s.size() && (s[k] == 'e' || s[k] == 'E')) {
    size_t e = k + 1;
    if (e < s.size() && (s[e] == '+' || s[e] == '-')) ++e;
    const size_t start = e;
    while (e < s.size() && s[e] >= '0' && s[e] <= '9') ++e;
    if (e == start) return false;
    k = e;
  }
  if (k != s.size()) return false;
  double value = 0;
  const auto result = std::from_chars(s.data(), s.data() + s.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    const std::string copy(s);
    value = std::strtod(copy.c_str(), nullptr);  // 0 or HUGE_VAL, as pandas gives
  }
  out = negative ? -value : value;
  return true;
}

std::optional<bool> parse_bool(std::string_view cell) {
  if (cell == "True" || cell == "true" || cell == "TRUE") return true;
  if (cell == "False" || cell == "false" || cell == "FALSE") return false;
  return std::nullopt;
}

// Splits records; `pos` advances past each. Cells of the last record are in `cells`.
class Tokenizer {
 public:
  Tokenizer(std::string_view name, std::string_view text) : name_(name), text_(text) {}

  bool done() {
    // Blank lines are skipped.
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) advance_line_end();
    return pos_ >= text_.size();
  }
  int64_t line() const { return line_; }

  // Reads one record starting at a non-blank line; false with `error` set for a bad record.
  bool next(std::vector<std::string>& cells, std::string& error) {
    cells.clear();
    record_line_ = line_;
    const size_t start = pos_;
    std::string cell;
    while (true) {
      cell.clear();
      if (pos_ < text_.size() && text_[pos_] == '"') {
        ++pos_;
        while (true) {
          if (pos_ >= text_.size()) {
            error = fmt::format("{}:{}: unterminated quoted field", name_, record_line_);
            return false;
          }
          const char c = text_[pos_++];
          if (c == '"') {
            if (pos_ < text_.size() && text_[pos_] == '"') {
              cell += '"';
              ++pos_;
              continue;
            }
            break;
          }
          if (c == '\n' || (c == '\r' && (pos_ >= text_.size() || text_[pos_] != '\n'))) ++line_;
          cell += c;
        }
      }
      // Unquoted text, or text after a closing quote, up to the delimiter or line end.
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') ++pos_;
      cell.append(text_.substr(from, pos_ - from));
      cells.push_back(cell);
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      break;
    }
    const size_t end = pos_;
    if (pos_ < text_.size()) advance_line_end();
    const size_t bad = invalid_utf8_offset(text_.substr(start, end - start));
    if (bad != std::string_view::npos) {
      error = fmt::format("{}:{}: invalid UTF-8 (byte {} of the record)", name_, record_line_, bad + 1);
      return false;
    }
    return true;
  }
  int64_t record_line() const { return record_line_; }

 private:
  void advance_line_end() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }
  std::string_view name_, text_;
  size_t pos_ = 0;
  int64_t line_ = 1, record_line_ = 1;
};

struct ColumnStats {
  bool all_int = true, any_negative = false, any_uint = false, all_float = true, all_bool = true;
  bool any_null = false, any_value = false;
  void add(std::string_view cell) {
    if (is_na(cell)) {
      any_null = true;
      return;
    }
    any_value = true;
    int64_t i;
    uint64_t u;
    double d;
    const IntParse ip = all_int || all_float ? parse_int(cell, i, u) : IntParse::no;
    if (ip == IntParse::int64 && i < 0) any_negative = true;
    if (ip == IntParse::uint64) any_uint = true;
    if (ip != IntParse::int64 && ip != IntParse::uint64) all_int = false;
    if (all_float && ip != IntParse::int64 && ip != IntParse::uint64 && !parse_float(cell, d)) all_float = false;
    if (all_bool && !parse_bool(cell)) all_bool = false;
  }
};

enum class ColumnType { null, int64, uint64, float64, boolean, string };

ColumnType decide(const ColumnStats& s) {
  if (!s.any_value) return ColumnType::null;
  if (s.all_int && !s.any_null && !(s.any_uint && s.any_negative)) return s.any_uint ? ColumnType::uint64 : ColumnType::int64;
  if (s.all_float) return ColumnType::float64;
  if (s.all_bool) return ColumnType::boolean;
  return ColumnType::string;
}

Row convert(std::string_view cell, ColumnType type) {
  if (is_na(cell) || type == ColumnType::null) return nullptr;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  switch (type) {
    case ColumnType::int64: parse_int(cell, i, u); return i;
    case ColumnType::uint64: return parse_int(cell, i, u) == IntParse::uint64 ? Row(u) : Row(i);
    case ColumnType::float64: parse_float(cell, d); return d;
    case ColumnType::boolean: return *parse_bool(cell);
    default: return std::string(cell);
  }
}

// pandas' names (its C parser's header pass): empty -> "Unnamed: i"; a repeat
// of "a" -> "a.1", "a.2", ..., skipping any name the header holds.
std::vector<std::string> column_names(std::vector<std::string> names) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty()) names[i] = fmt::format("Unnamed: {}", i);
  const std::vector<std::string> header = names;
  auto in_header = [&](const std::string& n) { return std::find(header.begin(), header.end(), n) != header.end(); };
  std::map<std::string, int> counts;
  for (auto& name : names) {
    const std::string old = name;
    int cur = counts[old];
    while (cur > 0) {
      counts[old] = cur + 1;
      name = fmt::format("{}.{}", old, cur);
      cur = in_header(name) ? cur + 1 : counts[name];
    }
    counts[name] = cur + 1;
  }
  return names;
}

}  // namespace

ReadStats read_csv(std::string_view name, std::string_view text, const ReadOptions& options, const RowSink& sink) {
  if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
  ReadStats stats;
  std::vector<std::string> cells;
  std::string error;
  Tokenizer header_tok(name, text);
  if (header_tok.done()) return stats;
  if (!header_tok.next(cells, error)) fail("{} (the header row)", error);
  const std::vector<std::string> names = column_names(cells);

  auto bad_row = [&](std::string message) {
    if (!options.skip_bad_rows) throw Error(message);
    if (stats.bad_rows++ == 0) stats.first_bad_row = std::move(message);
  };
  // Pass 1: validate records and type the columns.
  std::vector<ColumnStats> columns(names.size());
  std::vector<int64_t> bad;
  Tokenizer tok = header_tok;
  for (int64_t index = 0; !tok.done(); ++index) {
    if (!tok.next(cells, error)) {
      bad_row(error);
      bad.push_back(index);
      continue;
    }
    if (cells.size() > names.size()) {
      bad_row(fmt::format("{}:{}: expected at most {} fields (the header's), saw {}", name, tok.record_line(),
                          names.size(), cells.size()));
      bad.push_back(index);
      continue;
    }
    for (size_t c = 0; c < names.size(); ++c) columns[c].add(c < cells.size() ? std::string_view(cells[c]) : "");
  }
  std::vector<ColumnType> types;
  for (const auto& column : columns) types.push_back(decide(column));

  // Pass 2: the typed rows.
  tok = header_tok;
  size_t next_bad = 0;
  for (int64_t index = 0; !tok.done(); ++index) {
    const bool ok = tok.next(cells, error);
    if (next_bad < bad.size() && bad[next_bad] == index) {
      ++next_bad;
      continue;
    }
    FINCH_CHECK(ok, "CSV record valid in pass 1 failed in pass 2: {}", error);
    Row row = Row::object();
    for (size_t c = 0; c < names.size(); ++c)
      row[names[c]] = convert(c < cells.size() ? std::string_view(cells[c]) : "", types[c]);
    sink(std::move(row), fmt::format("{}:{}", name, tok.record_line()));
    ++stats.rows;
  }
  return stats;
}

}  // namespace finch::data
