#include "finch/data/prepare.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>
#include <utility>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/data/samples.h"
#include "finch/data/source.h"
#include "finch/data/split.h"
#include "finch/data/table_reader.h"
#include "finch/data/template.h"
#include "finch/tokenizer/tokenizer_config.h"

namespace finch::data {
namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// The rank of this process under torchrun, Slurm or OpenMPI (0 when alone).
int launch_rank() {
  for (const char* name : {"RANK", "SLURM_PROCID", "OMPI_COMM_WORLD_RANK"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

// An exclusive lock held for the lifetime of the object (flock: released by
// the kernel if the process dies, so a killed preparer never wedges the rest).
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("{}: cannot create the lock file", path.string());
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      log_info("waiting for another process preparing this dataset ({})", path.string());
      if (::flock(fd_, LOCK_EX) != 0) fail("{}: cannot lock", path.string());
    }
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// The columns that hold a value (readers give a column absent from a row as null, as datasets does).
std::string columns_of(const Row& row) {
  std::string out;
  for (const auto& [k, v] : row.items())
    if (!v.is_null()) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

struct Example {
  std::string input, output;
};

// One row -> {input, output}, or the reason it cannot be.
class RowRenderer {
 public:
  RowRenderer(const DataConfig& config, const tokenizer::PretrainedTokenizer* chat)
      : config_(config), chat_(chat) {
    // DataConfig::validate() has checked the format.
    if (config.format == "template") {
      input_.emplace(config.input_template, "data.input_template");
      output_.emplace(config.output_template, "data.output_template");
    } else if (chat == nullptr) {
      fail("data.format=chat needs a model whose chat template renders the messages");
    }
  }

  // Returns the example or throws finch::Error naming `where`.
  Example render(const Row& row, const std::string& where) const {
    if (!row.is_object()) fail("{}: expected an object with columns", where);
    if (!input_) return render_chat(row, where);
    return {render_template(*input_, "data.input_template", row, where),
            render_template(*output_, "data.output_template", row, where)};
  }

 private:
  std::string column_for(const std::string& field) const {
    const auto it = config_.field_mapping.find(field);
    return it == config_.field_mapping.end() ? field : it->second;
  }

  std::string render_template(const Template& t, const char* setting, const Row& row, const std::string& where) const {
    std::vector<const ordered_json*> values;
    for (const auto& field : t.fields()) {
      const std::string column = column_for(field);
      // A null is a missing value: Python would silently write "None" into the text.
      const auto it = row.find(column);
      if (it == row.end() || it->is_null()) {
        const std::string via = column == field ? "" : fmt::format(" (data.field_mapping.{})", field);
        fail("{}: no column '{}' for {{{}}} of {}{}; the row has: {}", where, column, field, setting, via,
             columns_of(row));
      }
      values.push_back(&*it);
    }
    return t.render(values);
  }

  Example render_chat(const Row& row, const std::string& where) const {
    const std::string column = column_for("messages");
    const auto it = row.find(column);
    if (it == row.end() || it->is_null())
      fail("{}: no column '{}' with the chat messages (data.format=chat); the row has: {}", where, column,
           columns_of(row));
    const ordered_json& messages = *it;
    if (!messages.is_array() || messages.empty())
      fail("{}: column '{}' must be a non-empty list of {{role, content}} messages", where, column);
    for (const auto& m : messages)
      if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
        fail("{}: column '{}': every message needs a string 'role'", where, column);
    if (messages.back()["role"] != "assistant")
      fail("{}: the last message must be the assistant's (it is the output), got role '{}'", where,
           messages.back()["role"].get<std::string>());
    ordered_json prompt = ordered_json::array();
    for (size_t i = 0; i + 1 < messages.size(); ++i) prompt.push_back(messages[i]);
    std::string input = chat_->apply_chat_template(prompt, /*add_generation_prompt=*/true);
    std::string full = chat_->apply_chat_template(messages, /*add_generation_prompt=*/false);
    if (full.compare(0, input.size(), input) != 0)
      fail("{}: the chat template renders the earlier turns differently once the last assistant turn follows, "
           "so the output cannot be split from the input",
           where);
    std::string output = full.substr(input.size());
    return {std::move(input), std::move(output)};
  }

  const DataConfig& config_;
  const tokenizer::PretrainedTokenizer* chat_;
  std::optional<Template> input_, output_;
};

std::string example_line(const Example& e) {
  return ordered_json{{"input", e.input}, {"output", e.output}}.dump() + "\n";
}

// The rendered rows as JSON lines in a scratch file beside the splits, so the
// memory held until the split is known is one offset per row, not the text.
class ExampleSpool {
 public:
  explicit ExampleSpool(fs::path path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("{}: cannot create", path_.string());
    offsets_.push_back(0);
  }
  ~ExampleSpool() {
    ::close(fd_);
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  ExampleSpool(const ExampleSpool&) = delete;
  ExampleSpool& operator=(const ExampleSpool&) = delete;

  void add(const Example& e) {
    const std::string line = example_line(e);
    buffer_ += line;
    offsets_.push_back(offsets_.back() + line.size());
    if (buffer_.size() > (1 << 22)) flush();
  }
  int64_t size() const { return static_cast<int64_t>(offsets_.size()) - 1; }

  // Writes the lines of `indices`, in that order, to `path` (atomically).
  void write_split(const fs::path& path, const std::vector<int64_t>& indices) {
    flush();
    AtomicFile file(path);
    std::string out, line;
    for (int64_t i : indices) {
      line.resize(offsets_[i + 1] - offsets_[i]);
      if (::pread(fd_, line.data(), line.size(), static_cast<off_t>(offsets_[i])) != static_cast<ssize_t>(line.size()))
        fail("{}: cannot read back", path_.string());
      out += line;
      if (out.size() > (1 << 22)) {
        file.write(out);
        out.clear();
      }
    }
    file.write(out);
    file.commit();
  }

 private:
  void flush() {
    for (size_t done = 0; done < buffer_.size();) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n <= 0) fail("{}: cannot write (disk full?)", path_.string());
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  fs::path path_;
  int fd_ = -1;
  std::string buffer_;
  std::vector<uint64_t> offsets_;
};

}  // namespace

std::string safe_component(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = name[i];
    if (c == '/') out += '_';
    else if (std::isalnum(c) || c == '_' || c == '-' || (c == '.' && i > 0)) out += static_cast<char>(c);
    else out += fmt::format("%{:02X}", c);
  }
  return out.empty() ? "default" : out;
}

fs::path prepared_dir(const DataConfig& config) {
  // A local file or folder is named by its last component, not its whole path.
  std::string name = config.dataset_name;
  if (fs::exists(name)) {
    fs::path p = fs::absolute(name).lexically_normal();
    if (p.filename().empty()) p = p.parent_path();  // "folder/"
    name = fs::is_directory(p) ? p.filename().string() : p.stem().string();
  }
  const std::string conf = config.effective_config().empty() ? "default" : config.effective_config();
  return fs::path(config.datasets_dir) / safe_component(name) / safe_component(conf) /
         split_folder_name(config.train_split_ratio, config.val_test_split_ratio);
}

namespace {

// What decides a prepared folder's contents beyond its name: a later run with
// other values must not silently reuse it.
ordered_json identity_of(const DataConfig& c, const PrepareOptions& options) {
  std::string name = c.dataset_name;
  if (fs::exists(name)) name = fs::absolute(name).lexically_normal().string();
  ordered_json id = {{"dataset_name", name},           {"dataset_config", c.effective_config()},
                     {"split", c.split},               {"revision", c.revision},
                     {"format", c.format},             {"seed", c.seed},
                     {"skip_bad_rows", c.skip_bad_rows}};
  if (c.format == "template") {
    id["input_template"] = c.input_template;
    id["output_template"] = c.output_template;
  } else {
    id["chat_model"] = options.chat_model;
  }
  id["field_mapping"] = c.field_mapping;
  return id;
}

// The run this process belongs to, as its launcher names it (empty: none known).
std::string launch_id() {
  if (const char* v = std::getenv("TORCHELASTIC_RUN_ID")) return v;
  if (const char* v = std::getenv("SLURM_JOB_ID"))
    return std::string(v) + "." + (std::getenv("SLURM_STEP_ID") ? std::getenv("SLURM_STEP_ID") : "");
  if (const char* v = std::getenv("PMIX_NAMESPACE")) return v;
  return {};
}

PrepareResult prepare_locked(const DataConfig& config, const PrepareOptions& options, const RowRenderer& renderer,
                             const fs::path& dir, const ordered_json& identity, const std::string& launch);

PrepareResult reuse(const fs::path& dir, const ordered_json& summary, const ordered_json& identity) {
  PrepareResult result;
  result.dir = dir;
  result.reused = true;
  if (summary.contains("settings"))
    for (const auto& [key, value] : identity.items())
      if (summary["settings"].value(key, ordered_json()) != value)
        fail("{}: prepared with data.{} = {}, not {}; use --force to prepare it again, or another "
             "data.datasets_dir",
             dir.string(), key, summary["settings"].value(key, ordered_json()).dump(), value.dump());
  result.rows = summary.value("rows", int64_t{0});
  result.train = summary.value("train", int64_t{0});
  result.validation = summary.value("validation", int64_t{0});
  result.test = summary.value("test", int64_t{0});
  result.bad_rows = summary.value("bad_rows", int64_t{0});
  return result;
}

}  // namespace

void DataConfig::validate() const {
  if (format != "template" && format != "chat") fail("data.format: expected template or chat, got '{}'", format);
  if (num_proc < 0) fail("data.num_proc: expected 0 (one per core) or a positive count, got {}", num_proc);
  if (max_seq_length <= 0) fail("data.max_seq_length: expected a positive number of tokens, got {}", max_seq_length);
  if (seed < 0) fail("data.seed: expected a non-negative integer, got {}", seed);
}

PrepareResult prepare_dataset(const DataConfig& config, const PrepareOptions& options) {
  config.validate();
  const RowRenderer renderer(config, options.chat);  // checks the templates before any download
  const fs::path dir = prepared_dir(config);
  const fs::path ready = dir / ".data_ready";
  const ordered_json identity = identity_of(config, options);
  fs::create_directories(dir.parent_path());
  // Only rank 0 redoes the work for --force. Under a launcher that names its
  // run, the other ranks wait for rank 0's result of this very run; otherwise
  // they reuse what is there.
  const bool rank0 = launch_rank() == 0;
  const std::string launch = launch_id();
  const auto waiting_since = std::chrono::steady_clock::now();
  for (;;) {
    {
      FileLock lock(dir.parent_path() / (dir.filename().string() + ".lock"));
      ordered_json summary;
      if (fs::exists(ready)) summary = ordered_json::parse(read_text_file(ready), nullptr, false);
      const bool complete = summary.is_object();
      if (complete && !options.force) return reuse(dir, summary, identity);
      if (complete && !rank0 && (launch.empty() || summary.value("launch", "") == launch))
        return reuse(dir, summary, identity);
      if (rank0 || !options.force) return prepare_locked(config, options, renderer, dir, identity, launch);
    }
    if (std::chrono::steady_clock::now() - waiting_since > std::chrono::hours(2))
      fail("{}: waited 2 hours for rank 0 to prepare the dataset (--force)", dir.string());
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

namespace {

PrepareResult prepare_locked(const DataConfig& config, const PrepareOptions& options, const RowRenderer& renderer,
                             const fs::path& dir, const ordered_json& identity, const std::string& launch) {
  PrepareResult result;
  result.dir = dir;
  const fs::path ready = dir / ".data_ready";
  fs::remove(ready);
  fs::create_directories(result.dir);

  const DatasetFiles source = resolve_dataset_files(config.dataset_name, config.effective_config(), config.split,
                                                    config.revision);
  log_info("reading {}", source.description);

  // Rows are read in blocks of 4096, each block rendered on worker threads.
  const int threads = config.num_proc > 0 ? static_cast<int>(config.num_proc)
                                          : std::max(1u, std::thread::hardware_concurrency());
  ExampleSpool examples(result.dir / ".rows.tmp");
  std::string first_bad;
  std::vector<std::pair<Row, std::string>> block;
  auto flush = [&] {
    std::vector<std::optional<Example>> out(block.size());
    std::vector<std::string> errors(block.size());
    auto work = [&](size_t begin) {
      for (size_t i = begin; i < block.size(); i += threads) {
        try {
          out[i] = renderer.render(block[i].first, block[i].second);
        } catch (const Error& e) {
          errors[i] = e.what();
        }
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool) t.join();
    for (size_t i = 0; i < block.size(); ++i) {
      if (out[i]) {
        examples.add(*out[i]);
        continue;
      }
      if (!config.skip_bad_rows) fail("{} (data.skip_bad_rows=true skips such rows)", errors[i]);
      if (result.bad_rows++ == 0) first_bad = errors[i];
    }
    block.clear();
  };
  ReadOptions read_options;
  read_options.skip_bad_rows = config.skip_bad_rows;
  for (const auto& file : source.files) {
    const ReadStats stats = read_table(file, read_options, [&](Row&& row, const std::string& where) {
      block.emplace_back(std::move(row), where);
      if (block.size() == 4096) flush();
    });
    flush();
    result.rows += stats.rows;
    result.bad_rows += stats.bad_rows;
    if (first_bad.empty()) first_bad = stats.first_bad_row;
  }
  if (result.bad_rows > 0)
    log_warning("skipped {} bad rows (data.skip_bad_rows); the first: {}", result.bad_rows, first_bad);
  if (examples.size() == 0) fail("{}: no usable rows", source.description);

  const SplitIndices split = split_indices(examples.size(), config.train_split_ratio,
                                           config.val_test_split_ratio, static_cast<uint64_t>(config.seed));
  examples.write_split(result.dir / "training.jsonl", split.train);
  examples.write_split(result.dir / "validation.jsonl", split.validation);
  examples.write_split(result.dir / "test.jsonl", split.test);
  if (!options.config_yaml.empty()) write_file_atomic(result.dir / "data_config.yaml", options.config_yaml);
  result.train = static_cast<int64_t>(split.train.size());
  result.validation = static_cast<int64_t>(split.validation.size());
  result.test = static_cast<int64_t>(split.test.size());
  ordered_json files = ordered_json::array();
  for (const auto& f : source.files) files.push_back(f.string());
  const ordered_json summary = {{"rows", result.rows},         {"train", result.train},
                                {"validation", result.validation}, {"test", result.test},
                                {"bad_rows", result.bad_rows}, {"source", source.description},
                                {"files", files},              {"settings", identity},
                                {"launch", launch}};
  write_file_atomic(ready, summary.dump(2) + "\n");  // last: the folder is complete
  return result;
}

}  // namespace

std::vector<SplitTokens> tokenize_prepared(const fs::path& dir, const DataConfig& config,
                                           const tokenizer::PretrainedTokenizer& tokenizer, const fs::path& tokenizer_dir) {
  // One process builds a split's cache while the others (ranks) wait, then reuse it.
  FileLock lock(dir / ".tokenize.lock");
  const uint64_t fingerprint = tokenizer_fingerprint(tokenizer_dir);
  TokenizeOptions options;
  options.threads = static_cast<int>(config.num_proc);
  const SampleOptions samples{config.max_seq_length, config.train_on_inputs};
  std::vector<SplitTokens> out;
  for (const char* split : {"training", "validation", "test"}) {
    const fs::path jsonl = dir / (std::string(split) + ".jsonl");
    CacheReport report;
    auto tokens = std::make_shared<const TokenizedSplit>(
        TokenizedSplit::load(jsonl, tokenizer, fingerprint, options, &report));
    const SampleSet set(tokens, samples);
    check_dropped(set, jsonl.string(), config.max_seq_length, 0.05);
    out.push_back({split, static_cast<int64_t>(tokens->size()), tokens->num_tokens(), set.dropped(), !report.rebuilt});
  }
  return out;
}

std::shared_ptr<const SampleSet> load_samples(const fs::path& jsonl, const DataConfig& config,
                                              const tokenizer::PretrainedTokenizer& tokenizer,
                                              const fs::path& tokenizer_dir) {
  FileLock lock(jsonl.parent_path() / ".tokenize.lock");
  TokenizeOptions options;
  options.threads = static_cast<int>(config.num_proc);
  auto tokens = std::make_shared<const TokenizedSplit>(
      TokenizedSplit::load(jsonl, tokenizer, tokenizer_fingerprint(tokenizer_dir), options));
  auto set = std::make_shared<const SampleSet>(tokens, SampleOptions{config.max_seq_length, config.train_on_inputs});
  check_dropped(*set, jsonl.string(), config.max_seq_length, 0.05);
  return set;
}

}  // namespace finch::data
