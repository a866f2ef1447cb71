// Files: atomic writes (temp name, flush, fsync, rename) and private mappings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace finch {

// Writes a file under a temporary name beside `path`; commit() makes it
// visible under `path` only once every byte is on disk. Destroyed without
// commit(), it removes the temporary file and `path` is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

void write_file_atomic(const std::filesystem::path& path, std::string_view contents);
// Copies a file to `to` through AtomicFile (flushed to disk before it appears).
void copy_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to);

// Makes folder `dir` appear whole or not at all: `write` fills a hidden
// temporary sibling ("<temp_prefix><name>-<pid>"; it must write its files
// through AtomicFile or copy_file_atomic, which flush them, or flush them
// itself), which is then renamed to `dir` and the parent flushed. An
// existing `dir` is replaced only once the new one is complete, swapped in
// one step where the file system can (renameat2 RENAME_EXCHANGE: ext4, xfs,
// btrfs, tmpfs), elsewhere (NFS) moved aside first ("<temp_prefix>old-...").
// On an exception the temporary folder is removed; a killed process leaves
// only hidden folders behind, never a half `dir`.
void write_dir_atomic(const std::filesystem::path& dir, const std::function<void(const std::filesystem::path& tmp)>& write,
                      std::string_view temp_prefix = ".partial-");
std::string read_text_file(const std::filesystem::path& path);

// A whole file mapped copy-on-write: pages are shared with the page cache
// until written, so tensors viewing it can be modified without touching the file.
class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace finch
