// What the suite measures besides time, and the data it writes.
//
// - IoCounters: the kernel's per-process I/O accounting (/proc/self/io). Its
//   write_bytes counts pages this process dirtied in the page cache (and
//   direct I/O), all threads included, whenever they reach the disk later;
//   rewriting a page that is still dirty is counted once.
// - Peak RSS: VmHWM, reset to the current RSS by writing "5" to
//   /proc/self/clear_refs.
// - DiskBytes: the space a directory's files occupy (st_blocks), recursively.
// - ValuePool: incompressible bytes from a fixed seed; a value is a slice of
//   the pool chosen by a value id, so any value can be regenerated to check a
//   read without keeping every written value in memory.
// - KeyTable: keys laid out back to back before any clock starts.
//
// Thread safety: the functions are safe to call from any thread; ValuePool
// and KeyTable are immutable once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lightning::perf {

struct IoCounters {
  uint64_t write_bytes = 0;  // bytes sent (or to be sent) to storage
  uint64_t wchar = 0;        // bytes passed to write()-like system calls
  uint64_t syscalls = 0;     // read()- and write()-like system calls (syscr + syscw)
};
// False if /proc/self/io cannot be read (then *io is zero).
bool ReadIo(IoCounters* io);
// The read and write system calls of `body`, all threads of the process
// (syscr + syscw of /proc/self/io: read, pread, readv, write, pwrite, writev
// and the like; not fsync, not mmap page faults), less ReadIo's own.
uint64_t IoSyscallsOf(const std::function<void()>& body);

// Returns freed heap to the kernel (earlier runs' memory would otherwise stay
// resident and count in this run's peak), then resets the peak to the current
// RSS. False if the kernel refused the reset (peak figures then cover earlier
// work).
bool ResetPeakRss();
double PeakRssMib();  // VmHWM
double RssMib();      // VmRSS

// Sum of st_blocks * 512 over every file under `dir`; 0 if it cannot be read.
uint64_t DiskBytes(const std::string& dir);

// Value ids map to pool slices by a hash, so neighbouring ids do not share
// bytes and a compressor finds nothing to squeeze within a block.
class ValuePool {
 public:
  static constexpr size_t kPoolBytes = size_t{16} << 20;
  static constexpr size_t kMaxValueBytes = size_t{100} << 10;  // W4's 100 KiB
  static constexpr uint64_t kSeed = 301;

  ValuePool();
  // REQUIRES: bytes <= kMaxValueBytes.
  std::string_view Value(uint64_t id, size_t bytes) const;

 private:
  std::string pool_;
};
const ValuePool& Values();  // built once, on first use

// `count` keys of equal length, formatted once.
class KeyTable {
 public:
  // Keys "%016llu" of 0..count-1. REQUIRES: count <= 10^16 (10^8 for Seed).
  static KeyTable Sequential(uint64_t count);
  // Keys "%016llu" of uniformly random u64 mod 10^12 (W3, W6), from `seed`.
  static KeyTable Random(uint64_t count, uint64_t seed);
  // Keys "key_%08d" of 0..count-1 (the seed replica).
  static KeyTable Seed(uint64_t count);

  std::string_view Key(uint64_t i) const { return {bytes_.data() + i * key_bytes_, key_bytes_}; }
  uint64_t size() const { return count_; }
  uint64_t distinct() const { return distinct_; }  // different keys in the table
  size_t key_bytes() const { return key_bytes_; }
  // True if key i occurs only once (reads of repeated keys have two answers).
  bool Unique(uint64_t i) const { return repeated_.empty() || !repeated_[i]; }

 private:
  uint64_t count_ = 0;
  uint64_t distinct_ = 0;
  size_t key_bytes_ = 0;
  std::string bytes_;
  std::vector<bool> repeated_;  // filled for random tables only
};

// "" if `got` equals `want`, else what differs (the lengths, or the first
// differing byte offset).
std::string CompareValue(std::string_view got, std::string_view want);

}  // namespace lightning::perf
