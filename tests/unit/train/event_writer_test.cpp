#include "finch/train/event_writer.h"

#include <unistd.h>

#include <cstring>

#include "../test_util.h"
#include "finch/core/files.h"

namespace finch::train {
namespace {

namespace fs = std::filesystem;

// Known answers: RFC 3720 (iSCSI) appendix B.4 and the common check value.
TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  uint8_t bytes[32];
  std::memset(bytes, 0, sizeof(bytes));
  EXPECT_EQ(crc32c(bytes, 32), 0x8A9136AAu);
  std::memset(bytes, 0xFF, sizeof(bytes));
  EXPECT_EQ(crc32c(bytes, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(bytes, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) bytes[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc32c(bytes, 32), 0x113FDB5Cu);
}

TEST(Crc32c, MaskIsTensorFlows) {
  // ((crc >> 15) | (crc << 17)) + 0xa282ead8 on 0xE3069283.
  EXPECT_EQ(masked_crc32c("123456789", 9), ((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xa282ead8u);
}

// The records of an event file, each checked against its two CRCs.
std::vector<std::string> read_records(const fs::path& file) {
  const std::string bytes = read_text_file(file);
  std::vector<std::string> records;
  size_t at = 0;
  while (at < bytes.size()) {
    EXPECT_GE(bytes.size() - at, 12u);
    uint64_t length = 0;
    uint32_t length_crc = 0, data_crc = 0;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(length_crc, masked_crc32c(bytes.data() + at, 8));
    std::string data = bytes.substr(at + 12, length);
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(data_crc, masked_crc32c(data.data(), data.size()));
    records.push_back(data);
    at += 16 + length;
  }
  return records;
}

TEST(EventWriter, WritesFramedEventsUnderTensorBoardsFileName) {
  test::TempDir dir;
  fs::path path;
  {
    EventWriter writer(dir / "logs");
    path = writer.path();
    writer.scalar("train/loss", 0.5, 3);
    // Flushed as written: the file holds both records before the writer closes.
    EXPECT_EQ(read_records(path).size(), 2u);
  }
  EXPECT_EQ(path.parent_path(), dir / "logs");
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  const std::string name = path.filename().string();
  EXPECT_EQ(name.rfind("events.out.tfevents.", 0), 0u) << name;
  EXPECT_NE(name.find(fmt::format(".{}.{}.", host, ::getpid())), std::string::npos) << name;

  const auto records = read_records(path);
  ASSERT_EQ(records.size(), 2u);
  // Event{wall_time (key 0x09, 8 bytes), file_version (key 0x1a) "brain.Event:2"}.
  EXPECT_EQ(records[0].size(), 9u + 2 + 13);
  EXPECT_EQ(records[0][0], '\x09');
  EXPECT_EQ(records[0].substr(9), std::string("\x1a\x0d") + "brain.Event:2");
  // Event{wall_time, step 3, summary{value{tag, simple_value 0.5f}}}.
  const std::string value = std::string("\x0a\x0a") + "train/loss" + "\x15" + std::string("\x00\x00\x00\x3f", 4);
  const std::string summary = std::string("\x0a") + static_cast<char>(value.size()) + value;
  EXPECT_EQ(records[1].substr(9), std::string("\x10\x03\x2a") + static_cast<char>(summary.size()) + summary);
}

TEST(EventWriter, TwoWritersInOneSecondUseTwoFiles) {
  test::TempDir dir;
  EventWriter a(dir.path());
  EventWriter b(dir.path());
  EXPECT_NE(a.path(), b.path());
}

TEST(EventWriter, NegativeStepIsATenByteVarint) {
  test::TempDir dir;
  fs::path path;
  {
    EventWriter writer(dir.path());
    path = writer.path();
    writer.scalar("x", 1.0, -1);
  }
  const auto records = read_records(path);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].substr(9, 11), std::string("\x10\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11));
}

}  // namespace
}  // namespace finch::train
