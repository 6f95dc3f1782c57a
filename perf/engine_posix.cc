// The raw POSIX log (engine "posix", row W7.raw): each Put appends its key
// and value to one file with write() and, for sync=true, fdatasync(). An
// in-memory index (key -> offset) lets the suite read every record back. It
// is the cost floor under any durable Put of the same size, not a database:
// Delete, Write and Scan are refused, and the index lives only as long as the
// Store (the suite never reopens this one).
//
// Thread-safe: one mutex serializes appends, index updates and reads, the
// way threads sharing one log file would.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "perf/engine.h"

namespace lightning::perf {
namespace {

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

class PosixLogStore final : public Store {
 public:
  ~PosixLogStore() override { (void)Close(); }

  std::string Open(const std::string& dir) override {
    fd_ = ::open((dir + "/log").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return fd_ < 0 ? Errno("open") : "";
  }
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    std::lock_guard<std::mutex> lock(mu_);
    record_.assign(key);
    record_.append(value);
    if (::write(fd_, record_.data(), record_.size()) != static_cast<ssize_t>(record_.size())) {
      return Errno("write");
    }
    if (sync && ::fdatasync(fd_) != 0) return Errno("fdatasync");
    index_[std::string(key)] = {end_ + key.size(), value.size()};
    end_ += record_.size();
    return "";
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(std::string(key));
    *found = it != index_.end();
    if (!*found) return "";
    value->resize(it->second.bytes);
    ssize_t n = ::pread(fd_, value->data(), value->size(), static_cast<off_t>(it->second.offset));
    return n == static_cast<ssize_t>(value->size()) ? "" : Errno("pread");
  }
  std::string Delete(std::string_view) override { return "posix log: no Delete"; }
  std::string Write(std::span<const KeyValue>) override { return "posix log: no Write"; }
  std::string Scan(std::string_view, size_t, const ScanFn&) override {
    return "posix log: no Scan";
  }
  std::string Sync() override { return ::fdatasync(fd_) == 0 ? "" : Errno("fdatasync"); }
  std::string Close() override {
    if (fd_ < 0) return "";
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? "" : Errno("close");
  }

 private:
  struct Extent {
    uint64_t offset;
    uint64_t bytes;
  };
  std::mutex mu_;  // guards everything below
  int fd_ = -1;
  uint64_t end_ = 0;  // file size: where the next record goes
  std::string record_;
  std::unordered_map<std::string, Extent> index_;
};

}  // namespace

EngineInfo PosixLogEngine() {
  return {.name = "posix",
          .settings = "write()+fdatasync() per record, one file",
          .concurrency = "one mutex",
          .sync = "fdatasync",
          .make = [] { return std::make_unique<PosixLogStore>(); }};
}

}  // namespace lightning::perf
