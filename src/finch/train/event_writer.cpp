// TensorBoard event files (event_writer.h), encoded by hand: the few
// protocol-buffer fields TensorBoard reads for scalars, from
// tensorboard/compat/proto/event.proto and summary.proto:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
// and the TFRecord framing of tensorboard/summary/writer/record_writer.py.
#include "finch/train/event_writer.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "finch/core/error.h"

namespace fs = std::filesystem;

namespace finch::train {
namespace {

// CRC-32C: reflected polynomial 0x82F63B78, one table lookup per byte.
constexpr std::array<uint32_t, 256> make_crc32c_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

// Protocol-buffer wire format: a key is (field << 3) | wire type.
enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void put_key(std::string& out, uint32_t field, WireType type) { put_varint(out, (field << 3) | type); }

template <typename T>
void put_little_endian(std::string& out, T value) {
  static_assert(std::endian::native == std::endian::little, "event files are little-endian");
  out.append(reinterpret_cast<const char*>(&value), sizeof(value));
}

void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

double unix_seconds_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// An Event with its wall time; the caller appends the other fields.
std::string event_header(double wall_time) {
  std::string event;
  put_key(event, 1, kFixed64);
  put_little_endian(event, wall_time);
  return event;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = kCrc32cTable[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

EventWriter::EventWriter(const fs::path& log_dir) {
  fs::create_directories(log_dir);
  // Unique per writer within a process; the pid and host separate processes.
  static std::atomic<uint64_t> counter{0};
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::strcpy(host, "localhost");
  const double now = unix_seconds_now();
  path_ = log_dir / fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", static_cast<int64_t>(now), host, ::getpid(),
                                counter.fetch_add(1));
  // "x": never append to or truncate another writer's file.
  file_ = std::fopen(path_.c_str(), "wbx");
  if (file_ == nullptr) fail("{}: cannot create: {}", path_.string(), std::strerror(errno));
  std::string event = event_header(now);
  put_bytes(event, 3, "brain.Event:2");
  write_record(event);
}

EventWriter::~EventWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventWriter::scalar(const std::string& tag, double value, int64_t step) {
  std::string summary_value;
  put_bytes(summary_value, 1, tag);
  put_key(summary_value, 2, kFixed32);
  put_little_endian(summary_value, static_cast<float>(value));
  std::string summary;
  put_bytes(summary, 1, summary_value);

  std::string event = event_header(unix_seconds_now());
  put_key(event, 2, kVarint);
  put_varint(event, static_cast<uint64_t>(step));  // negative int64: ten bytes, as protobuf does
  put_bytes(event, 5, summary);
  write_record(event);
}

void EventWriter::flush() {
  if (std::fflush(file_) != 0) fail("{}: write failed: {}", path_.string(), std::strerror(errno));
}

// TFRecord: uint64 length, masked CRC of those 8 bytes, data, masked CRC of the data.
void EventWriter::write_record(const std::string& data) {
  std::string record;
  put_little_endian(record, static_cast<uint64_t>(data.size()));
  put_little_endian(record, masked_crc32c(record.data(), record.size()));
  record += data;
  put_little_endian(record, masked_crc32c(data.data(), data.size()));
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size())
    fail("{}: write failed: {}", path_.string(), std::strerror(errno));
  flush();
}

}  // namespace finch::train
