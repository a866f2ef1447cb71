#include "finch/core/files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "finch/core/error.h"

namespace finch {
namespace fs = std::filesystem;

namespace {

std::string errno_text() { return std::strerror(errno); }

void fsync_directory(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

AtomicFile::AtomicFile(fs::path path) : path_(std::move(path)) {
  // Unique per process and per object, created exclusively (never through a link).
  static std::atomic<uint64_t> counter{0};
  temp_ = path_;
  temp_ += fmt::format(".tmp.{}.{}", ::getpid(), counter.fetch_add(1));
  fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot create: {}", temp_.string(), errno_text());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::write(const void* data, std::size_t size) {
  FINCH_CHECK(fd_ >= 0, "{}: write after commit", path_.string());
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", temp_.string(), errno_text());
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  FINCH_CHECK(fd_ >= 0, "{}: committed twice", path_.string());
  if (::fsync(fd_) != 0) fail("{}: fsync failed: {}", temp_.string(), errno_text());
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    std::string why = errno_text();
    ::unlink(temp_.c_str());
    fail("{}: cannot rename into place: {}", path_.string(), why);
  }
  fsync_directory(path_.parent_path());
}

void write_file_atomic(const fs::path& path, std::string_view contents) {
  AtomicFile file(path);
  file.write(contents);
  file.commit();
}

void copy_file_atomic(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", from.string(), errno_text());
  AtomicFile file(to);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) file.write(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) fail("{}: read failed", from.string());
  file.commit();
}

namespace {

void replace_dir(const fs::path& tmp, const fs::path& dir, std::string_view temp_prefix) {
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp);  // now the old folder
    return;
  }
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    fail("{}: cannot swap in the new folder: {}", dir.string(), errno_text());
  const fs::path aside = dir.parent_path() / fmt::format("{}old-{}-{}", temp_prefix, dir.filename().string(), ::getpid());
  fs::remove_all(aside);
  fs::rename(dir, aside);
  fs::rename(tmp, dir);
  fs::remove_all(aside);
}

}  // namespace

void write_dir_atomic(const fs::path& dir_in, const std::function<void(const fs::path& tmp)>& write,
                      std::string_view temp_prefix) {
  fs::path dir = dir_in.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // no trailing separator: the real parent and name
  const fs::path parent = dir.parent_path().empty() ? fs::path(".") : dir.parent_path();
  const fs::path tmp = parent / fmt::format("{}{}-{}", temp_prefix, dir.filename().string(), ::getpid());
  fs::create_directories(parent);
  fs::remove_all(tmp);  // an earlier attempt of this same pid (a restarted container)
  fs::create_directory(tmp);
  try {
    write(tmp);
    fsync_directory(tmp);
    if (fs::exists(dir))
      replace_dir(tmp, dir, temp_prefix);
    else
      fs::rename(tmp, dir);
    fsync_directory(parent);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", path.string(), errno_text());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::shared_ptr<MappedFile> MappedFile::open(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open: {}", path.string(), errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail("{}: cannot stat: {}", path.string(), errno_text());
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = static_cast<uint64_t>(st.st_size);
  if (file->size_ > 0) {
    void* p = ::mmap(nullptr, file->size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      fail("{}: cannot map: {}", path.string(), errno_text());
    }
    file->data_ = static_cast<uint8_t*>(p);
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace finch
