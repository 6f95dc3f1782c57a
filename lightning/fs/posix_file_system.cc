// The POSIX FileSystem returned by FileSystem::Default().
//
// Every file descriptor is opened with O_CLOEXEC so that a child process never
// inherits a database file or, worse, its lock. System calls interrupted by a
// signal (EINTR) are retried; short reads and writes loop until done. Errors
// become IOError("<path>: <strerror>"), except a held lock, which is Busy.
//
// Appends go straight to write(2), and RandomRWFile writes to pwrite(2): there
// is no user-space buffer, so every byte a write acknowledged survives a
// process crash (durability.md).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "lightning/file_system.h"

namespace lightning {

namespace {

Status PosixError(const std::string& path, int error_number) {
  return Status::IOError(path + ": " + std::strerror(error_number));
}

// Calls f() until it does not fail with EINTR; returns its last result.
template <typename F>
auto RetryOnEintr(F f) {
  decltype(f()) result;
  do {
    result = f();
  } while (result == -1 && errno == EINTR);
  return result;
}

int OpenRetrying(const std::string& path, int flags, mode_t mode = 0644) {
  return RetryOnEintr([&] { return ::open(path.c_str(), flags | O_CLOEXEC, mode); });
}

// Closes fd; EINTR is not retried because Linux has already released the
// descriptor (a retry could close a descriptor another thread just opened).
Status CloseFd(const std::string& path, int fd) {
  if (::close(fd) != 0 && errno != EINTR) return PosixError(path, errno);
  return Status::OK();
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, char* scratch, std::string_view* result) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = RetryOnEintr([&] { return ::read(fd_, scratch + done, n - done); });
      if (r < 0) return PosixError(path_, errno);
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, done);
    return Status::OK();
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) == -1) return PosixError(path_, errno);
    return Status::OK();
  }

 private:
  const std::string path_;
  const int fd_;
};

// pread(2) keeps no file position, so concurrent readers need no lock. A
// table file is immutable once written, so on 64-bit systems it is also
// memory-mapped when opened: Read then costs no system call, and the table
// reader uses uncompressed blocks in place (Mapped()). The mapping covers the
// size at open; the engine never changes a file it reads.
class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    struct stat st;
    if (sizeof(void*) >= 8 && ::fstat(fd_, &st) == 0 && st.st_size > 0) {
      void* base = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd_, 0);
      if (base != MAP_FAILED) mapped_ = {static_cast<const char*>(base), size_t(st.st_size)};
      // Without a mapping (MAP_FAILED) the file is read with pread.
    }
  }
  ~PosixRandomAccessFile() override {
    if (!mapped_.empty()) ::munmap(const_cast<char*>(mapped_.data()), mapped_.size());
    ::close(fd_);
  }

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (!mapped_.empty()) {
      *result = offset < mapped_.size() ? mapped_.substr(offset, n) : std::string_view();
      return Status::OK();
    }
    size_t done = 0;
    while (done < n) {
      ssize_t r = RetryOnEintr([&] {
        return ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      });
      if (r < 0) return PosixError(path_, errno);
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, done);
    return Status::OK();
  }

  std::string_view Mapped() const override { return mapped_; }

 private:
  const std::string path_;
  const int fd_;
  std::string_view mapped_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    assert(fd_ >= 0);
    while (!data.empty()) {
      ssize_t r = RetryOnEintr([&] { return ::write(fd_, data.data(), data.size()); });
      if (r < 0) return PosixError(path_, errno);
      if (r == 0) return Status::IOError(path_ + ": write made no progress");
      data.remove_prefix(static_cast<size_t>(r));
      written_ += static_cast<uint64_t>(r);
    }
    StartWriteback();
    return Status::OK();
  }

  // fallocate without FALLOC_FL_KEEP_SIZE, so the size covers the reserve and
  // a later fdatasync writes data only: 2,000 appends of 125 bytes, each with
  // an fdatasync, ran at 6,500/s instead of 4,500/s on this project's ext4
  // test machine. Extended once less than half the reserve is left; after a
  // failure (no space, a file system without fallocate) it stops trying.
  void ReserveAhead(uint64_t bytes) override {
#ifdef __linux__
    if (reserve_failed_ || written_ + bytes / 2 < reserved_) return;
    const uint64_t from = std::max(reserved_, written_);
    const uint64_t to = written_ + bytes;
    if (::fallocate(fd_, 0, static_cast<off_t>(from), static_cast<off_t>(to - from)) != 0) {
      reserve_failed_ = true;
      return;
    }
    reserved_ = to;
#else
    (void)bytes;
#endif
  }

  // fdatasync also persists the file size, which is all the metadata a reader
  // needs; the directory entry is SyncDir's job.
  Status Sync() override {
    assert(fd_ >= 0);
    if (RetryOnEintr([&] { return ::fdatasync(fd_); }) != 0) return PosixError(path_, errno);
    return Status::OK();
  }

  // Gives back the unused reserve. Not synced: a crash may leave it, and the
  // reader takes a zero-filled tail for the end of the data either way.
  Status Close() override {
    if (fd_ < 0) return Status::OK();
    if (reserved_ > written_) (void)::ftruncate(fd_, static_cast<off_t>(written_));
    Status s = CloseFd(path_, fd_);
    fd_ = -1;
    return s;
  }

 private:
  // Asks the kernel to start writing each full MiB back as soon as it is
  // appended, so that a Sync (or the fsync that retires a log) waits only for
  // the last stretch rather than the whole file. A hint only: nothing counts
  // as durable until Sync returns, and a writeback error surfaces there.
  void StartWriteback() {
#ifdef __linux__
    constexpr uint64_t kWritebackBytes = 1 << 20;
    if (written_ - writeback_start_ < kWritebackBytes) return;
    const uint64_t end = written_ - written_ % kWritebackBytes;
    (void)::sync_file_range(fd_, static_cast<off_t>(writeback_start_),
                            static_cast<off_t>(end - writeback_start_), SYNC_FILE_RANGE_WRITE);
    writeback_start_ = end;
#endif
  }

  const std::string path_;
  int fd_;                        // -1 once closed
  uint64_t written_ = 0;          // bytes appended (the file was created empty)
  uint64_t writeback_start_ = 0;  // bytes before this were handed to StartWriteback
  uint64_t reserved_ = 0;         // the file's size covers [0, reserved_) (ReserveAhead)
  bool reserve_failed_ = false;
};

// The B+Tree's page file: pread and pwrite keep no file position, so readers
// need no lock. View maps the file MAP_SHARED, so the page cache that pwrite
// fills is what the mapping shows: a later Write is visible through a view
// without a remap. Mappings are made generously larger than asked (readers
// touch only bytes below the file's size) and never unmapped before
// destruction, because readers may still hold an older address.
class PosixRandomRWFile final : public RandomRWFile {
 public:
  PosixRandomRWFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomRWFile() override {
    for (const Mapping& m : mappings_) ::munmap(m.base, m.bytes);
    if (fd_ >= 0) ::close(fd_);
  }

  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    assert(fd_ >= 0);
    size_t done = 0;
    while (done < n) {
      ssize_t r = RetryOnEintr([&] {
        return ::pread(fd_, scratch + done, n - done, static_cast<off_t>(offset + done));
      });
      if (r < 0) return PosixError(path_, errno);
      if (r == 0) break;  // end of file
      done += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, done);
    return Status::OK();
  }

  Status Write(uint64_t offset, std::string_view data) override {
    assert(fd_ >= 0);
    while (!data.empty()) {
      ssize_t r = RetryOnEintr(
          [&] { return ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset)); });
      if (r < 0) return PosixError(path_, errno);
      if (r == 0) return Status::IOError(path_ + ": write made no progress");
      data.remove_prefix(static_cast<size_t>(r));
      offset += static_cast<uint64_t>(r);
    }
    return Status::OK();
  }

  // fdatasync persists the data and the size a grown file needs; creating the
  // file is SyncDir's job.
  Status Sync() override {
    assert(fd_ >= 0);
    if (RetryOnEintr([&] { return ::fdatasync(fd_); }) != 0) return PosixError(path_, errno);
    return Status::OK();
  }

  void StartWriteback(uint64_t offset, uint64_t n) override {
#ifdef __linux__
    (void)::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(n),
                            SYNC_FILE_RANGE_WRITE);
#else
    (void)offset;
    (void)n;
#endif
  }

  // Views stay mapped: a mapping outlives the descriptor it was made from.
  Status Close() override {
    if (fd_ < 0) return Status::OK();
    Status s = CloseFd(path_, fd_);
    fd_ = -1;
    return s;
  }

  const char* View(uint64_t bytes) override;

 private:
  struct Mapping {
    void* base;
    size_t bytes;
  };

  const std::string path_;
  int fd_;  // -1 once closed
  std::mutex mu_;
  std::vector<Mapping> mappings_;  // guarded by mu_; the last is the largest
};

// Rounds up to a power of two, at least kMinViewBytes, so that a growing file
// remaps about log2(size) times; most files never outgrow the first mapping.
// (A page read through an older mapping stays in the process's resident set
// as well, so each remap can count a page twice there.) Only on 64-bit
// systems, where address space is plentiful; past kMaxViewBytes it gives up
// (nullptr: the caller uses Read).
const char* PosixRandomRWFile::View(uint64_t bytes) {
  constexpr uint64_t kMinViewBytes = uint64_t{1} << 30;  // address space, not memory
  constexpr uint64_t kMaxViewBytes = uint64_t{1} << 46;  // 64 TiB
  if (sizeof(void*) < 8 || bytes > kMaxViewBytes) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  if (!mappings_.empty() && mappings_.back().bytes >= bytes) {
    return static_cast<const char*>(mappings_.back().base);
  }
  if (fd_ < 0) return nullptr;
  const size_t map_bytes = static_cast<size_t>(std::bit_ceil(std::max(bytes, kMinViewBytes)));
  void* base = ::mmap(nullptr, map_bytes, PROT_READ, MAP_SHARED, fd_, 0);
  if (base == MAP_FAILED) return nullptr;
  mappings_.push_back({base, map_bytes});
  return static_cast<const char*>(base);
}

// flock(2) locks belong to the open file description, so two opens of the same
// path conflict even within one process, which is what makes a second
// DB::Open of an open database return Busy.
class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    RetryOnEintr([&] { return ::flock(fd_, LOCK_UN); });
    ::close(fd_);
  }

 private:
  const int fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  Status NewSequentialFile(const std::string& path,
                           std::unique_ptr<SequentialFile>* file) override {
    int fd = OpenRetrying(path, O_RDONLY);
    if (fd < 0) return PosixError(path, errno);
    *file = std::make_unique<PosixSequentialFile>(path, fd);
    return Status::OK();
  }

  Status NewRandomAccessFile(const std::string& path,
                             std::unique_ptr<RandomAccessFile>* file) override {
    int fd = OpenRetrying(path, O_RDONLY);
    if (fd < 0) return PosixError(path, errno);
    *file = std::make_unique<PosixRandomAccessFile>(path, fd);
    return Status::OK();
  }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    int fd = OpenRetrying(path, O_WRONLY | O_CREAT | O_TRUNC);
    if (fd < 0) return PosixError(path, errno);
    *file = std::make_unique<PosixWritableFile>(path, fd);
    return Status::OK();
  }

  // Like NewWritableFile, creating the file does not sync its directory.
  Status NewRandomRWFile(const std::string& path, std::unique_ptr<RandomRWFile>* file) override {
    int fd = OpenRetrying(path, O_RDWR | O_CREAT);
    if (fd < 0) return PosixError(path, errno);
    *file = std::make_unique<PosixRandomRWFile>(path, fd);
    return Status::OK();
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;

  Status GetFileSize(const std::string& path, uint64_t* size) override {
    struct ::stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError(path, errno);
    *size = static_cast<uint64_t>(st.st_size);
    return Status::OK();
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError(path, errno);
    return Status::OK();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from + " -> " + to, errno);
    return Status::OK();
  }

  Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status::OK();
    int error_number = errno;
    struct ::stat st;
    if (error_number == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::OK();
    }
    return PosixError(dir, error_number);
  }

  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError(dir, errno);
    return Status::OK();
  }

  Status SyncDir(const std::string& dir) override {
    int fd = OpenRetrying(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return PosixError(dir, errno);
    Status s;
    if (RetryOnEintr([&] { return ::fsync(fd); }) != 0) s = PosixError(dir, errno);
    Status close_status = CloseFd(dir, fd);
    return s.ok() ? close_status : s;
  }

  Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) override {
    int fd = OpenRetrying(path, O_RDWR | O_CREAT);
    if (fd < 0) return PosixError(path, errno);
    if (RetryOnEintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
      int error_number = errno;
      ::close(fd);
      if (error_number == EWOULDBLOCK) {
        return Status::Busy(path + ": database is locked by another handle or process");
      }
      return PosixError(path, error_number);
    }
    *lock = std::make_unique<PosixFileLock>(fd);
    return Status::OK();
  }
};

Status PosixFileSystem::GetChildren(const std::string& dir, std::vector<std::string>* names) {
  names->clear();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return PosixError(dir, errno);
  while (true) {
    errno = 0;  // readdir signals an error only through errno
    struct ::dirent* entry = ::readdir(d);
    if (entry == nullptr) break;
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names->emplace_back(name);
  }
  int error_number = errno;
  ::closedir(d);
  return error_number == 0 ? Status::OK() : PosixError(dir, error_number);
}

}  // namespace

FileSystem* FileSystem::Default() {
  static FileSystem* const fs = new PosixFileSystem;  // never deleted: outlives every DB
  return fs;
}

}  // namespace lightning
