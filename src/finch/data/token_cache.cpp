// The token cache of a split: `<stem>.tokens-<key>.bin` beside the JSONL.
//
// Layout (little-endian, as written by this machine):
//   header, 64 bytes: "FINCHTOK", u32 recipe version, u32 header size,
//                     u64 key, u64 rows, u64 tokens, u64 payload checksum, 0s
//   u32 input_length[rows], u32 length[rows], i32 ids[tokens]
// A file whose magic, version, key, size or checksum disagrees is corrupt and
// is rebuilt with a warning. Written to a temporary name and renamed.
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>

#include "finch/core/error.h"
#include "finch/core/files.h"
#include "finch/core/log.h"
#include "finch/data/samples.h"

namespace finch::data {
namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'F', 'I', 'N', 'C', 'H', 'T', 'O', 'K'};
constexpr uint64_t kHeaderSize = 64;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_size;
  uint64_t key, rows, tokens, checksum;
  uint8_t zero[16];
};
static_assert(sizeof(Header) == kHeaderSize);

uint64_t mix(uint64_t x) {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A 64-bit hash of bytes (not cryptographic: it detects change and damage).
uint64_t hash_bytes(const void* data, std::size_t size, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = mix(seed ^ (size * 0x9e3779b97f4a7c15ULL));
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ mix(w)) * 0x100000001b3ULL;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, size - i);
  return mix(h ^ mix(tail ^ (size - i)));
}

uint64_t hash_file(const fs::path& path, uint64_t seed) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot read", path.string());
  std::vector<char> block(1 << 20);
  uint64_t h = mix(seed);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    h = mix(h ^ hash_bytes(block.data(), static_cast<std::size_t>(in.gcount()), h));
  }
  return h;
}

std::string read_string(const nlohmann::json& row, const char* key, const std::string& where) {
  auto it = row.find(key);
  if (it == row.end()) fail("{}: no '{}' field (expected {{\"input\": ..., \"output\": ...}})", where, key);
  if (!it->is_string()) fail("{}: '{}' must be a string, got {}", where, key, it->type_name());
  return it->get<std::string>();
}

// Reads the JSONL in chunks and tokenizes each chunk on the worker threads.
void tokenize_file(const fs::path& jsonl, const tokenizer::PretrainedTokenizer& tokenizer,
                   const TokenizeOptions& options, std::vector<uint32_t>& input_lengths,
                   std::vector<uint32_t>& lengths, std::vector<int32_t>& ids) {
  const RecipeTokens tokens = RecipeTokens::of(tokenizer);
  std::ifstream in(jsonl);
  if (!in) fail("{}: cannot read", jsonl.string());
  std::vector<std::string> inputs, outputs;
  auto flush = [&] {
    // Each of the three lists is encoded on the pool; results come back in order.
    std::vector<std::string> rendered, plain;
    std::vector<bool> is_rendered(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      is_rendered[i] = tokens.input_is_rendered(inputs[i]);
      (is_rendered[i] ? rendered : plain).push_back(std::move(inputs[i]));
    }
    const auto plain_ids = tokenizer.tokenizer.encode_batch(plain, true, options.threads);
    const auto rendered_ids = tokenizer.tokenizer.encode_batch(rendered, false, options.threads);
    const auto output_ids = tokenizer.tokenizer.encode_batch(outputs, false, options.threads);
    std::size_t next_plain = 0, next_rendered = 0;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const auto& in_ids = is_rendered[i] ? rendered_ids[next_rendered++] : plain_ids[next_plain++];
      const auto& out_ids = output_ids[i];
      const bool add_eos = tokens.output_needs_eos(outputs[i]);
      const std::size_t n = in_ids.size() + out_ids.size() + (add_eos ? 1 : 0);
      FINCH_CHECK(n < (1ULL << 32), "{}: a row of {} tokens", jsonl.string(), n);
      input_lengths.push_back(static_cast<uint32_t>(in_ids.size()));
      lengths.push_back(static_cast<uint32_t>(n));
      ids.insert(ids.end(), in_ids.begin(), in_ids.end());
      ids.insert(ids.end(), out_ids.begin(), out_ids.end());
      if (add_eos) ids.push_back(tokens.eos_id);
    }
    inputs.clear();
    outputs.clear();
  };
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines carry no row
    const std::string where = fmt::format("{}:{}", jsonl.string(), number);
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) fail("{}: not a JSON object", where);
    inputs.push_back(read_string(row, "input", where));
    outputs.push_back(read_string(row, "output", where));
    if (static_cast<int64_t>(inputs.size()) >= options.chunk_rows) flush();
  }
  flush();
}

}  // namespace

struct CacheIo {
  // Maps `path` into `split`; the reason it is unusable, or empty.
  static std::string open(const fs::path& path, uint64_t key, TokenizedSplit& split) {
    auto file = MappedFile::open(path);
    if (file->size() < kHeaderSize) return "shorter than its header";
    Header h;
    std::memcpy(&h, file->data(), sizeof h);
    if (std::memcmp(h.magic, kMagic, 8) != 0) return "not a finch token cache";
    if (h.version != kRecipeVersion || h.header_size != kHeaderSize) return "another recipe version";
    if (h.key != key) return "made for other data or another tokenizer";
    const uint64_t payload = 8 * h.rows + 4 * h.tokens;
    if (file->size() != kHeaderSize + payload)
      return fmt::format("{} bytes where {} were expected", file->size(), kHeaderSize + payload);
    if (hash_bytes(file->data() + kHeaderSize, payload, key) != h.checksum) return "checksum mismatch";
    const uint8_t* p = file->data() + kHeaderSize;
    std::vector<uint32_t> input_lengths(h.rows), lengths(h.rows);
    std::memcpy(input_lengths.data(), p, 4 * h.rows);
    std::memcpy(lengths.data(), p + 4 * h.rows, 4 * h.rows);
    split.offsets_.assign(1, 0);
    split.input_lengths_.clear();
    for (uint64_t r = 0; r < h.rows; ++r) {
      if (input_lengths[r] > lengths[r]) return fmt::format("row {} has an input longer than itself", r);
      split.offsets_.push_back(split.offsets_.back() + lengths[r]);
      split.input_lengths_.push_back(input_lengths[r]);
    }
    if (static_cast<uint64_t>(split.offsets_.back()) != h.tokens) return "row lengths do not add up";
    split.tokens_ = reinterpret_cast<const int32_t*>(p + 8 * h.rows);
    split.file_ = std::move(file);
    return {};
  }

  static void write(const fs::path& path, uint64_t key, const std::vector<uint32_t>& input_lengths,
                    const std::vector<uint32_t>& lengths, const std::vector<int32_t>& ids) {
    std::string payload(8 * lengths.size() + 4 * ids.size(), '\0');
    std::memcpy(payload.data(), input_lengths.data(), 4 * input_lengths.size());
    std::memcpy(payload.data() + 4 * lengths.size(), lengths.data(), 4 * lengths.size());
    std::memcpy(payload.data() + 8 * lengths.size(), ids.data(), 4 * ids.size());
    Header h{};
    std::memcpy(h.magic, kMagic, 8);
    h.version = kRecipeVersion;
    h.header_size = kHeaderSize;
    h.key = key;
    h.rows = lengths.size();
    h.tokens = ids.size();
    h.checksum = hash_bytes(payload.data(), payload.size(), key);
    AtomicFile out(path);
    out.write(&h, sizeof h);
    out.write(payload);
    out.commit();
  }
};

uint64_t tokenizer_fingerprint(const fs::path& dir) {
  uint64_t h = mix(0x746f6b656e697a65ULL);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}) {
    const fs::path path = dir / name;
    h = mix(h ^ hash_bytes(name, std::strlen(name), h));
    if (fs::exists(path)) h = hash_file(path, h);
  }
  return h;
}

TokenizedSplit TokenizedSplit::load(const fs::path& jsonl, const tokenizer::PretrainedTokenizer& tokenizer,
                                    uint64_t tokenizer_fingerprint, const TokenizeOptions& options,
                                    CacheReport* report) {
  if (!fs::is_regular_file(jsonl)) fail("{}: no such file", jsonl.string());
  const uint64_t key = hash_file(jsonl, mix(tokenizer_fingerprint ^ mix(kRecipeVersion)) ^ fs::file_size(jsonl));
  const std::string stem = jsonl.stem().string() + ".tokens-";
  const fs::path cache = jsonl.parent_path() / fmt::format("{}{:016x}.bin", stem, key);
  CacheReport local;
  CacheReport& r = report ? *report : local;
  r = CacheReport{false, "", cache};

  TokenizedSplit split;
  if (fs::exists(cache)) {
    const std::string problem = CacheIo::open(cache, key, split);
    if (problem.empty()) return split;
    log_warning("{}: corrupt token cache ({}); tokenizing {} again", cache.string(), problem, jsonl.string());
    r.reason = "corrupt: " + problem;
  } else {
    r.reason = "absent";
  }
  r.rebuilt = true;
  {
    std::vector<uint32_t> input_lengths, lengths;
    std::vector<int32_t> ids;
    // A row never has more tokens than its JSON line has bytes (every token
    // covers at least one byte of text, and the line's own syntax outweighs
    // BOS and EOS), so this bound spares the reallocations that would double
    // the peak; pages never written cost no memory.
    ids.reserve(fs::file_size(jsonl));
    tokenize_file(jsonl, tokenizer, options, input_lengths, lengths, ids);
    // Caches of this split under other keys are stale: the data or tokenizer changed.
    for (const auto& entry : fs::directory_iterator(jsonl.parent_path().empty() ? "." : jsonl.parent_path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(stem, 0) == 0 && entry.path().extension() == ".bin" && entry.path() != cache) {
        std::error_code ignored;
        fs::remove(entry.path(), ignored);
      }
    }
    CacheIo::write(cache, key, input_lengths, lengths, ids);
  }  // the ids are on disk: freed before the file is mapped back
  const std::string problem = CacheIo::open(cache, key, split);
  FINCH_CHECK(problem.empty(), "{}: the cache just written is unusable: {}", cache.string(), problem);
  return split;
}

}  // namespace finch::data
