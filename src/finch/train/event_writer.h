// TensorBoard event files (what tf.summary / torch.utils.tensorboard write):
// records of framed Event protocol buffers (length, masked CRC-32C of the
// length, data, masked CRC-32C of the data), file name
// events.out.tfevents.<unix seconds>.<host>.<pid>.<n>, first record the
// file_version "brain.Event:2". Scalars as simple_value summaries. Each
// record is flushed as written, so a kill loses at most the record in flight
// (TensorBoard's reader stops at a torn final record).
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace finch::train {

class EventWriter {
 public:
  explicit EventWriter(const std::filesystem::path& log_dir);  // creates the folder
  ~EventWriter();
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;
  void scalar(const std::string& tag, double value, int64_t step);
  void flush();
  const std::filesystem::path& path() const { return path_; }

 private:
  void write_record(const std::string& data);
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
};

// CRC-32C (Castagnoli) and TensorBoard's masking of it; exposed for tests.
uint32_t crc32c(const void* data, size_t size);
uint32_t masked_crc32c(const void* data, size_t size);

}  // namespace finch::train
