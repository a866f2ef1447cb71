// Parquet via Arrow: record batches from parquet::arrow::FileReader, each
// value converted to JSON by its Arrow type (the mapping is in parquet_reader.h).
#include "finch/data/parquet_reader.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/util/float16.h>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>

#include <cmath>
#include <ctime>

#include "finch/core/error.h"
#include "finch/data/text_util.h"

namespace finch::data {
namespace {

using json = nlohmann::ordered_json;

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (two ? uint8_t(bytes[i + 1]) << 8 : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += two ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t per_second(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return 1;
    case arrow::TimeUnit::MILLI: return 1000;
    case arrow::TimeUnit::MICRO: return 1000000;
    default: return 1000000000;
  }
}

// ".ffffff" for a nonzero sub-second part (nanoseconds only when not whole
// microseconds), as Python's datetime / pandas' Timestamp print it.
std::string fraction(int64_t nanos) {
  if (nanos == 0) return "";
  if (nanos % 1000 == 0) return fmt::format(".{:06d}", nanos / 1000);
  return fmt::format(".{:09d}", nanos);
}

std::string date_text(int64_t days) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  return fmt::format("{:04d}-{:02d}-{:02d}", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
}

std::string time_text(int64_t seconds, int64_t nanos) {
  return fmt::format("{:02d}:{:02d}:{:02d}{}", seconds / 3600, seconds / 60 % 60, seconds % 60, fraction(nanos));
}

// "+05:30" -> seconds east of UTC; "UTC"-like or a named zone -> 0 with "+00:00".
int64_t zone_offset(const std::string& tz, std::string& label) {
  label = "+00:00";
  if (tz.size() == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':') {
    label = tz;
    const int64_t s = (std::stoi(tz.substr(1, 2)) * 60 + std::stoi(tz.substr(4, 2))) * 60;
    return tz[0] == '-' ? -s : s;
  }
  return 0;
}

std::string timestamp_text(int64_t value, const arrow::TimestampType& type) {
  const int64_t unit = per_second(type.unit());
  int64_t seconds = floor_div(value, unit);
  const int64_t nanos = (value - seconds * unit) * (1000000000 / unit);
  std::string label;
  if (!type.timezone().empty()) seconds += zone_offset(type.timezone(), label);
  const int64_t days = floor_div(seconds, 86400);
  return fmt::format("{} {}{}", date_text(days), time_text(seconds - days * 86400, nanos), label);
}

std::string duration_text(int64_t value, arrow::TimeUnit::type unit_type) {
  const int64_t unit = per_second(unit_type);
  const int64_t seconds = floor_div(value, unit);
  const int64_t nanos = (value - seconds * unit) * (1000000000 / unit);
  const int64_t days = floor_div(seconds, 86400);
  const std::string clock = time_text(seconds - days * 86400, nanos);
  if (days == 0) return clock.substr(clock[0] == '0' ? 1 : 0);
  return fmt::format("{} day{}, {}", days, std::abs(days) == 1 ? "" : "s", clock.substr(clock[0] == '0' ? 1 : 0));
}

template <typename ArrayT>
json list_value(const ArrayT& list, int64_t i, const std::function<json(const arrow::Array&, int64_t)>& value) {
  json out = json::array();
  const auto& values = *list.values();
  const int64_t start = list.value_offset(i), n = list.value_length(i);
  for (int64_t k = 0; k < n; ++k) out.push_back(value(values, start + k));
  return out;
}

// One value; a string that is not UTF-8 is an Error (the caller names the row).
json value_of(const arrow::Array& a, int64_t i) {
  if (a.IsNull(i)) return nullptr;
  using T = arrow::Type;
  switch (a.type_id()) {
    case T::NA: return nullptr;
    case T::BOOL: return static_cast<const arrow::BooleanArray&>(a).Value(i);
    case T::INT8: return static_cast<const arrow::Int8Array&>(a).Value(i);
    case T::INT16: return static_cast<const arrow::Int16Array&>(a).Value(i);
    case T::INT32: return static_cast<const arrow::Int32Array&>(a).Value(i);
    case T::INT64: return static_cast<const arrow::Int64Array&>(a).Value(i);
    case T::UINT8: return static_cast<const arrow::UInt8Array&>(a).Value(i);
    case T::UINT16: return static_cast<const arrow::UInt16Array&>(a).Value(i);
    case T::UINT32: return static_cast<const arrow::UInt32Array&>(a).Value(i);
    case T::UINT64: return static_cast<const arrow::UInt64Array&>(a).Value(i);
    case T::HALF_FLOAT:
      return arrow::util::Float16::FromBits(static_cast<const arrow::HalfFloatArray&>(a).Value(i)).ToDouble();
    case T::FLOAT: return static_cast<double>(static_cast<const arrow::FloatArray&>(a).Value(i));
    case T::DOUBLE: return static_cast<const arrow::DoubleArray&>(a).Value(i);
    case T::STRING:
    case T::LARGE_STRING:
    case T::STRING_VIEW: {
      const std::string_view s = a.type_id() == T::STRING ? static_cast<const arrow::StringArray&>(a).GetView(i)
                                 : a.type_id() == T::LARGE_STRING
                                     ? static_cast<const arrow::LargeStringArray&>(a).GetView(i)
                                     : static_cast<const arrow::StringViewArray&>(a).GetView(i);
      const size_t bad = invalid_utf8_offset(s);
      if (bad != std::string_view::npos) fail("invalid UTF-8 in a string (byte {})", bad + 1);
      return std::string(s);
    }
    case T::BINARY: return base64(static_cast<const arrow::BinaryArray&>(a).GetView(i));
    case T::LARGE_BINARY: return base64(static_cast<const arrow::LargeBinaryArray&>(a).GetView(i));
    case T::BINARY_VIEW: return base64(static_cast<const arrow::BinaryViewArray&>(a).GetView(i));
    case T::FIXED_SIZE_BINARY: return base64(static_cast<const arrow::FixedSizeBinaryArray&>(a).GetView(i));
    case T::DATE32: return date_text(static_cast<const arrow::Date32Array&>(a).Value(i));
    case T::DATE64: return date_text(floor_div(static_cast<const arrow::Date64Array&>(a).Value(i), 86400000));
    case T::TIME32:
    case T::TIME64: {
      const auto unit = static_cast<const arrow::TimeType&>(*a.type()).unit();
      const int64_t v = a.type_id() == T::TIME32 ? static_cast<const arrow::Time32Array&>(a).Value(i)
                                                 : static_cast<const arrow::Time64Array&>(a).Value(i);
      const int64_t per = per_second(unit);
      return time_text(v / per, (v % per) * (1000000000 / per));
    }
    case T::TIMESTAMP:
      return timestamp_text(static_cast<const arrow::TimestampArray&>(a).Value(i),
                            static_cast<const arrow::TimestampType&>(*a.type()));
    case T::DURATION:
      return duration_text(static_cast<const arrow::DurationArray&>(a).Value(i),
                           static_cast<const arrow::DurationType&>(*a.type()).unit());
    case T::DECIMAL32: return static_cast<const arrow::Decimal32Array&>(a).FormatValue(i);
    case T::DECIMAL64: return static_cast<const arrow::Decimal64Array&>(a).FormatValue(i);
    case T::DECIMAL128: return static_cast<const arrow::Decimal128Array&>(a).FormatValue(i);
    case T::DECIMAL256: return static_cast<const arrow::Decimal256Array&>(a).FormatValue(i);
    case T::DICTIONARY: {
      const auto& dict = static_cast<const arrow::DictionaryArray&>(a);
      return value_of(*dict.dictionary(), dict.GetValueIndex(i));
    }
    case T::LIST: return list_value(static_cast<const arrow::ListArray&>(a), i, value_of);
    case T::LARGE_LIST: return list_value(static_cast<const arrow::LargeListArray&>(a), i, value_of);
    case T::FIXED_SIZE_LIST: return list_value(static_cast<const arrow::FixedSizeListArray&>(a), i, value_of);
    case T::MAP: {
      const auto& map = static_cast<const arrow::MapArray&>(a);
      json out = json::array();
      const int64_t start = map.value_offset(i), n = map.value_length(i);
      for (int64_t k = 0; k < n; ++k)
        out.push_back(json::array({value_of(*map.keys(), start + k), value_of(*map.items(), start + k)}));
      return out;
    }
    case T::STRUCT: {
      const auto& s = static_cast<const arrow::StructArray&>(a);
      const auto& type = static_cast<const arrow::StructType&>(*a.type());
      json out = json::object();
      for (int f = 0; f < type.num_fields(); ++f) out[type.field(f)->name()] = value_of(*s.field(f), i);
      return out;
    }
    case T::EXTENSION: return value_of(*static_cast<const arrow::ExtensionArray&>(a).storage(), i);
    default: fail("unsupported Arrow type {}", a.type()->ToString());
  }
}

template <typename R>
R check(arrow::Result<R> result, const std::filesystem::path& file) {
  if (!result.ok()) fail("{}: cannot read as Parquet: {}", file.string(), one_line(result.status().ToString()));
  return std::move(result).ValueUnsafe();
}

}  // namespace

ReadStats read_parquet(const std::filesystem::path& file, const ReadOptions& options, const RowSink& sink) {
  ReadStats stats;
  std::unique_ptr<parquet::arrow::FileReader> reader;
  try {
    auto input = check(arrow::io::ReadableFile::Open(file.string()), file);
    reader = check(parquet::arrow::OpenFile(input, arrow::default_memory_pool()), file);
  } catch (const parquet::ParquetException& e) {
    fail("{}: cannot read as Parquet: {}", file.string(), one_line(e.what()));
  }
  auto batches = check(reader->GetRecordBatchReader(), file);
  int64_t row_number = 0;
  while (true) {
    std::shared_ptr<arrow::RecordBatch> batch;
    const arrow::Status status = batches->ReadNext(&batch);
    if (!status.ok()) fail("{}: cannot read as Parquet: {}", file.string(), one_line(status.ToString()));
    if (!batch) break;
    const auto& schema = *batch->schema();
    for (int64_t i = 0; i < batch->num_rows(); ++i) {
      ++row_number;
      const std::string where = fmt::format("{} row {}", file.string(), row_number);
      Row row = Row::object();
      int c = 0;
      try {
        for (; c < batch->num_columns(); ++c) row[schema.field(c)->name()] = value_of(*batch->column(c), i);
      } catch (const Error& e) {
        std::string message = fmt::format("{}: column '{}': {}", where, schema.field(c)->name(), e.what());
        if (!options.skip_bad_rows) throw Error(message);
        if (stats.bad_rows++ == 0) stats.first_bad_row = message;
        continue;
      }
      sink(std::move(row), where);
      ++stats.rows;
    }
  }
  return stats;
}

}  // namespace finch::data
