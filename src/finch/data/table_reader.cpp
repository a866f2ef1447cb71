// JSON Lines and JSON documents (see table_reader.h for the semantics). Two
// passes over the text: the first parses every row and infers the column
// shapes (json_shape.h), the second parses again and gives each row in those
// shapes. Bad rows fail or are skipped in the first pass, so with
// skip_bad_rows off nothing reaches the sink from a file that has one.
// For speed (these feed `finch data prepare`), rows parse with fast_json.h
// (nlohmann where it declines: same values, same errors), the first pass
// without copying string values, and JSON Lines in blocks of ~1 MB on all
// threads: per-block shapes merge in file order, and the second pass's rows
// reach the sink in file order on the calling thread. A .json array's
// elements parse in parallel where the array splits apart.
#include "finch/data/table_reader.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "finch/core/error.h"
#include "finch/data/fast_json.h"
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

// Parses one row, fast where it can (fast_json.h); an error is one line
// naming the row. With `skeleton`, string values may come back empty.
template <typename Where>
json parse_row(std::string_view text, Where&& where, bool skeleton = false) {
  json value;
  if (!(skeleton ? fast_parse_json_skeleton(text, value) : fast_parse_json(text, value))) {
    try {
      value = json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {  // parse_error, or out_of_range for a number past double
      fail("{}: not valid JSON: {}", where(), clean_json_error(e.what()));
    }
  }
  if (!value.is_object()) fail("{}: expected a JSON object per row, got {}", where(), type_name(value));
  return value;
}

// Calls visit(line, number) for each non-blank line of `text`, whose first line is number `first`.
template <typename Visit>
void for_each_line(std::string_view text, int64_t first, Visit&& visit) {
  int64_t number = first - 1;
  size_t pos = 0;
  while (pos < text.size()) {
    const char* start = text.data() + pos;
    const void* nl = std::memchr(start, '\n', text.size() - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
    ++number;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!blank(line)) visit(line, number);
  }
}

// A run of whole lines of a JSON Lines text, the unit of parallel work. The
// first pass infers each block's shape and finds its bad rows; the shapes
// merge in file order (JsonShape::merge_rows), which gives the shape the
// whole file would, and the second pass gives each block's rows in it.
struct Block {
  std::string_view text;
  int64_t first_line = 1;
  JsonShape shape;
  std::vector<int64_t> bad;  // line numbers of skipped rows
  std::string first_bad;
  std::exception_ptr error;  // the first pass stopped here
};

std::vector<Block> split_blocks(std::string_view text, size_t target) {
  std::vector<Block> blocks;
  int64_t line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = std::min(text.size(), pos + target);
    if (end < text.size()) {
      const size_t nl = text.find('\n', end - 1);
      end = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    Block& block = blocks.emplace_back();
    block.text = text.substr(pos, end - pos);
    block.first_line = line;
    line += std::count(block.text.begin(), block.text.end(), '\n');
    pos = end;
  }
  return blocks;
}

// Runs work(i) for i in [0, n) on up to `threads` threads (the caller's one
// among them); work must not throw.
template <typename Work>
void parallel_for(size_t n, size_t threads, Work&& work) {
  std::atomic<size_t> next{0};
  const auto run = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) work(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < std::min(threads, n); ++t) pool.emplace_back(run);
  run();
  for (auto& t : pool) t.join();
}

// Gives the rows of blocks [0, n) to the sink in order, where
// produce(i, emit) calls emit(row, where) for block i's rows. With several
// threads, workers produce blocks ahead into a bounded window while this
// thread runs the sink.
template <typename Produce>
int64_t ordered_rows(size_t n, size_t threads, const RowSink& sink, Produce&& produce) {
  int64_t rows = 0;
  if (threads <= 1 || n <= 1) {
    for (size_t i = 0; i < n; ++i)
      produce(i, [&](json&& row, std::string&& where) { sink(std::move(row), where), ++rows; });
    return rows;
  }
  struct Batch {
    std::vector<std::pair<json, std::string>> rows;
    std::exception_ptr error;
    bool ready = false;
  };
  std::vector<Batch> batches(n);
  std::mutex mutex;
  std::condition_variable changed;
  size_t next = 0, consumed = 0;
  bool stop = false;
  const size_t window = 4 * threads;
  const auto worker = [&] {
    std::unique_lock lock(mutex);
    while (true) {
      changed.wait(lock, [&] { return stop || next >= n || next < consumed + window; });
      if (stop || next >= n) return;
      const size_t i = next++;
      lock.unlock();
      Batch batch;
      try {
        produce(i, [&](json&& row, std::string&& where) { batch.rows.emplace_back(std::move(row), std::move(where)); });
      } catch (...) {
        batch.error = std::current_exception();
      }
      lock.lock();
      batches[i] = std::move(batch);
      batches[i].ready = true;
      changed.notify_all();
    }
  };
  std::vector<std::thread> pool;
  const auto finish = [&] {
    {
      std::lock_guard lock(mutex);
      stop = true;
    }
    changed.notify_all();
    for (auto& t : pool) t.join();
  };
  try {
    for (size_t t = 0; t < std::min(threads, n); ++t) pool.emplace_back(worker);
    for (size_t i = 0; i < n; ++i) {
      Batch batch;
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return batches[i].ready; });
        batch = std::move(batches[i]);
        consumed = i + 1;
      }
      changed.notify_all();
      if (batch.error) std::rethrow_exception(batch.error);
      for (auto& [row, where] : batch.rows) sink(std::move(row), where), ++rows;
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  return rows;
}

size_t thread_count() { return std::max(1u, std::thread::hardware_concurrency()); }

// The two passes over rows already parsed (a .json document), where(i)
// naming row i; a row that is not an object is bad.
template <typename Where>
ReadStats read_parsed_rows(json::array_t& rows, const ReadOptions& options, const RowSink& sink, Where&& where) {
  ReadStats stats;
  JsonShape shape;
  shape.kind = JsonShape::Kind::object;
  std::vector<bool> bad(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].is_object()) {
      shape.merge_row(rows[i]);
      continue;
    }
    const std::string message =
        fmt::format("{}: expected a JSON object per row, got {}", where(i), type_name(rows[i]));
    if (!options.skip_bad_rows) fail("{}", message);
    if (stats.bad_rows++ == 0) stats.first_bad_row = message;
    bad[i] = true;
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    if (bad[i]) continue;
    sink(shape.apply_row(std::move(rows[i])), where(i));
    ++stats.rows;
  }
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
  std::vector<Block> blocks = split_blocks(text, size_t{1} << 20);
  const size_t threads = thread_count();
  // First pass: shapes and bad rows per block. Without skip_bad_rows the first
  // bad row of the file fails the read, so blocks after a failed one are skipped.
  std::atomic<size_t> failed{blocks.size()};
  parallel_for(blocks.size(), threads, [&](size_t i) {
    if (i > failed.load()) return;
    Block& block = blocks[i];
    block.shape.kind = JsonShape::Kind::object;
    try {
      for_each_line(block.text, block.first_line, [&](std::string_view line, int64_t number) {
        try {
          block.shape.merge_row(
              parse_row(line, [&] { return fmt::format("{}:{}", name, number); }, /*skeleton=*/true));
        } catch (const Error& e) {
          if (!options.skip_bad_rows) throw;
          if (block.bad.empty()) block.first_bad = e.what();
          block.bad.push_back(number);
        }
      });
    } catch (...) {
      block.error = std::current_exception();
      for (size_t f = failed.load(); i < f && !failed.compare_exchange_weak(f, i);) {
      }
    }
  });
  ReadStats stats;
  JsonShape shape;
  shape.kind = JsonShape::Kind::object;
  for (Block& block : blocks) {
    if (block.error) std::rethrow_exception(block.error);
    if (!block.bad.empty() && stats.bad_rows == 0) stats.first_bad_row = block.first_bad;
    stats.bad_rows += static_cast<int64_t>(block.bad.size());
    shape.merge_rows(std::move(block.shape));
  }
  // Second pass: the rows in the file's shape, in file order.
  stats.rows = ordered_rows(blocks.size(), threads, sink, [&](size_t i, auto&& emit) {
    const Block& block = blocks[i];
    size_t next_bad = 0;
    for_each_line(block.text, block.first_line, [&](std::string_view line, int64_t number) {
      if (next_bad < block.bad.size() && block.bad[next_bad] == number) {
        ++next_bad;
        return;
      }
      std::string where = fmt::format("{}:{}", name, number);
      emit(shape.apply_row(parse_row(line, [&] { return where; })), std::move(where));
    });
  });
  return stats;
}

ReadStats read_json_document(std::string_view name, std::string_view text, const ReadOptions& options,
                             const RowSink& sink) {
  text = strip_bom(text);
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  json whole;
  if (text[first] != '[') {
    // One object over several lines is one row; anything else is JSON Lines.
    if (!fast_parse_json(text, whole)) whole = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!whole.is_object()) return read_json_lines(name, text, options, sink);
    json::array_t rows{std::move(whole)};
    return read_parsed_rows(rows, options, sink, [&](size_t) { return fmt::format("{}:1", name); });
  }
  // A top-level array: the whole document must parse. Its elements parse in
  // parallel where they split apart (fast_json.h); else, and for the error
  // message of a bad document, as one.
  json::array_t rows;
  std::vector<std::string_view> elements;
  bool parsed = false;
  if (split_json_array(text, elements)) {
    rows.resize(elements.size());
    const size_t chunk = 256;
    std::atomic<bool> ok{true};
    parallel_for((elements.size() + chunk - 1) / chunk, thread_count(), [&](size_t c) {
      for (size_t i = c * chunk; i < std::min(elements.size(), (c + 1) * chunk) && ok.load(std::memory_order_relaxed); ++i)
        if (!fast_parse_json(elements[i], rows[i])) ok = false;
    });
    parsed = ok;
  }
  if (!parsed) {
    if (!fast_parse_json(text, whole)) {
      try {
        whole = json::parse(text.begin(), text.end());
      } catch (const json::exception& e) {  // parse_error, or out_of_range for a number past double
        fail("{}: not valid JSON: {}", name, clean_json_error(e.what()));
      }
    }
    rows = std::move(*whole.get_ptr<json::array_t*>());
  }
  // datasets reads an array of objects as rows and wraps anything else as {"text": item}.
  if (!rows.empty() && !rows.front().is_object()) {
    for (json& item : rows) {
      json row = json::object();
      row["text"] = std::move(item);
      item = std::move(row);
    }
  }
  return read_parsed_rows(rows, options, sink, [&](size_t i) { return fmt::format("{} row {}", name, i + 1); });
}

}  // namespace finch::data
