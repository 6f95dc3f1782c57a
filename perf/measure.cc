// See measure.h.

#include "perf/measure.h"

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "lightning/util/random.h"

namespace lightning::perf {

bool ReadIo(IoCounters* io) {
  *io = IoCounters();
  std::ifstream in("/proc/self/io");
  std::string name;
  uint64_t value = 0;
  bool any = false;
  while (in >> name >> value) {
    if (name == "write_bytes:") io->write_bytes = value, any = true;
    if (name == "wchar:") io->wchar = value;
    if (name == "syscr:" || name == "syscw:") io->syscalls += value;
  }
  return any;
}

uint64_t IoSyscallsOf(const std::function<void()>& body) {
  // Reading /proc/self/io is itself counted (after the values it returns):
  // two reads back to back measure that cost, which each delta then excludes.
  static const uint64_t own = [] {
    IoCounters a, b;
    ReadIo(&a);
    ReadIo(&b);
    return b.syscalls - a.syscalls;
  }();
  IoCounters before, after;
  ReadIo(&before);
  body();
  ReadIo(&after);
  const uint64_t delta = after.syscalls - before.syscalls;
  return delta > own ? delta - own : 0;
}

bool ResetPeakRss() {
  malloc_trim(0);
  std::ofstream out("/proc/self/clear_refs");
  out << "5" << std::flush;
  return out.good();
}

namespace {

// A "Vm...:  1234 kB" line of /proc/self/status, in MiB; 0 if absent.
double StatusMib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

}  // namespace

double PeakRssMib() { return StatusMib("VmHWM:"); }
double RssMib() { return StatusMib("VmRSS:"); }

uint64_t DiskBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0) total += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return total;
}

ValuePool::ValuePool() : pool_(kPoolBytes + kMaxValueBytes, '\0') {
  lightning::Random rnd(kSeed);
  for (size_t pos = 0; pos < pool_.size(); pos += sizeof(uint64_t)) {
    uint64_t bits = rnd.Next64();
    std::memcpy(&pool_[pos], &bits, std::min(sizeof(bits), pool_.size() - pos));
  }
}

std::string_view ValuePool::Value(uint64_t id, size_t bytes) const {
  // A multiplicative hash (Fibonacci hashing) spreads consecutive ids.
  const uint64_t offset = ((id + 1) * 0x9e3779b97f4a7c15ull >> 20) % kPoolBytes;
  return {pool_.data() + offset, bytes};
}

const ValuePool& Values() {
  static const ValuePool* pool = new ValuePool();  // never destroyed: used until exit
  return *pool;
}

namespace {

// Writes printf(format, n) to out, which holds exactly `bytes` (no NUL).
void FormatKey(char* out, size_t bytes, const char* format, uint64_t n) {
  char text[32];  // any uint64_t with a prefix and a NUL
  std::snprintf(text, sizeof(text), format, static_cast<unsigned long long>(n));
  std::memcpy(out, text, bytes);
}

}  // namespace

KeyTable KeyTable::Sequential(uint64_t count) {
  KeyTable t;
  t.count_ = t.distinct_ = count;
  t.key_bytes_ = 16;
  t.bytes_.resize(count * 16);
  for (uint64_t i = 0; i < count; i++) FormatKey(&t.bytes_[i * 16], 16, "%016llu", i);
  return t;
}

KeyTable KeyTable::Random(uint64_t count, uint64_t seed) {
  constexpr uint64_t kKeySpace = 1'000'000'000'000ull;  // 10^12: 12 of the 16 digits vary
  KeyTable t;
  t.count_ = t.distinct_ = count;
  t.key_bytes_ = 16;
  t.bytes_.resize(count * 16);
  lightning::Random rnd(seed);
  std::unordered_map<uint64_t, uint64_t> first;  // key number -> first index
  first.reserve(count);
  t.repeated_.assign(count, false);
  for (uint64_t i = 0; i < count; i++) {
    const uint64_t n = rnd.Uniform(kKeySpace);
    FormatKey(&t.bytes_[i * 16], 16, "%016llu", n);
    auto [it, inserted] = first.emplace(n, i);
    if (!inserted) t.repeated_[it->second] = t.repeated_[i] = true;
  }
  t.distinct_ = first.size();
  return t;
}

KeyTable KeyTable::Seed(uint64_t count) {
  KeyTable t;
  t.count_ = t.distinct_ = count;
  t.key_bytes_ = 12;  // "key_" and 8 digits
  t.bytes_.resize(count * 12);
  for (uint64_t i = 0; i < count; i++) FormatKey(&t.bytes_[i * 12], 12, "key_%08llu", i);
  return t;
}

std::string CompareValue(std::string_view got, std::string_view want) {
  if (got.size() != want.size()) {
    return "read " + std::to_string(got.size()) + " bytes, wrote " + std::to_string(want.size());
  }
  if (std::memcmp(got.data(), want.data(), got.size()) == 0) return "";  // the fast, usual case
  auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin());
  return "byte " + std::to_string(g - got.begin()) + " of " + std::to_string(got.size()) +
         " differs";
}

}  // namespace lightning::perf
