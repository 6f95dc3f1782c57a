// The raw POSIX log (engine "posix", rows W1.raw, W4.raw, W7.raw): each Put
// appends its key and value to one file with write() and, for sync=true,
// fdatasync(); Sync() is one fdatasync(). A list of where each record went,
// indexed at the first Get, lets the suite read every record back without
// slowing the timed appends. It is the cost floor under a Put of the same
// size that survives kill -9 (and, synced, a power loss), not a database:
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
#include <vector>

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
  // Appends the record and notes where it went; the index for Get is built
  // later, so that the timed Puts cost the write() and little else.
  std::string Put(std::string_view key, std::string_view value, bool sync) override {
    std::lock_guard<std::mutex> lock(mu_);
    record_.assign(key);
    record_.append(value);
    if (::write(fd_, record_.data(), record_.size()) != static_cast<ssize_t>(record_.size())) {
      return Errno("write");
    }
    if (sync && ::fdatasync(fd_) != 0) return Errno("fdatasync");
    records_.push_back({keys_.size(), key.size(), end_ + key.size(), value.size()});
    keys_.append(key);
    end_ += record_.size();
    return "";
  }
  std::string Get(std::string_view key, std::string* value, bool* found) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (; indexed_ < records_.size(); indexed_++) {  // a later record of a key wins
      const Record& r = records_[indexed_];
      index_[std::string(keys_, r.key_offset, r.key_bytes)] = indexed_;
    }
    auto it = index_.find(std::string(key));
    *found = it != index_.end();
    if (!*found) return "";
    const Record& r = records_[it->second];
    value->resize(r.value_bytes);
    ssize_t n = ::pread(fd_, value->data(), value->size(), static_cast<off_t>(r.value_offset));
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
  struct Record {
    uint64_t key_offset;  // in keys_
    uint64_t key_bytes;
    uint64_t value_offset;  // in the file
    uint64_t value_bytes;
  };
  std::mutex mu_;  // guards everything below
  int fd_ = -1;
  uint64_t end_ = 0;  // file size: where the next record goes
  std::string record_;
  std::string keys_;                               // every Put's key, one after another
  std::vector<Record> records_;                    // one per Put, in order
  size_t indexed_ = 0;                             // records_[0, indexed_) are in index_
  std::unordered_map<std::string, size_t> index_;  // key -> its last record
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
