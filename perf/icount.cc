// lightning_icount: a small, deterministic Lightning workload cut into named
// phases, for the CI performance gate (ci/perf_gate.sh). The gate runs it under
// `valgrind --tool=callgrind` and compares each phase's instructions per
// operation with results/baseline.json. Instruction counts do not move with
// the machine's load, so the gate can fail on a 5% rise where a timing gate on
// a shared machine could not.
//
//   valgrind --tool=callgrind --separate-threads=no lightning_icount [--dir DIR]
//
// Each phase starts with CALLGRIND_ZERO_STATS and ends with
// CALLGRIND_DUMP_STATS_AT("phase=<name> ops=<n>"), so each dump holds the
// instructions that every thread (the background flush and compaction thread
// included) executed during that phase, and nothing else: inputs are prepared
// before the phase starts. Outside valgrind the requests do nothing and the
// program is a plain correctness run.
//
// Determinism: fixed sizes and seeds, default Options, a fresh directory. The
// whole workload fits in the default 8 MiB memtable, so the background thread
// works only when a phase asks for it (Flush, CompactAll, Close) and that
// phase waits until the work is done. The sizes are part of the baseline:
// changing them changes every figure and needs `ci/perf_gate.sh --update`.
//
// Every read is checked against what was written (whole value, byte for byte)
// and every scan against the expected keys; at the end a full iteration is
// compared with the model. Exit status: 0 success, 1 an engine error or wrong
// data, 2 bad flags or no temporary directory.
//
// Single-threaded (the engine runs its own background thread).

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/db.h"
#include "lightning/util/random.h"

// Debian's valgrind package ships the client-request headers. Without them
// the phases are not marked and ci/perf_gate.sh reports that no phase was seen.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
constexpr bool kHaveCallgrind = true;
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#define RUNNING_ON_VALGRIND 0
constexpr bool kHaveCallgrind = false;
#endif

namespace lightning {
namespace {

constexpr size_t kValueBytes = 100;
constexpr uint64_t kLoadKeys = 20'000;         // put phase: slots 0..kLoadKeys-1, ascending
constexpr uint64_t kKeySlots = 2 * kLoadKeys;  // batches write anywhere in [0, kKeySlots)
constexpr int kBatches = 100;
constexpr int kBatchPuts = 100;
constexpr int kGets = 10'000;
constexpr int kColdGets = 2'000;
constexpr int kScans = 1'000;
constexpr int kScanNexts = 10;
constexpr int kDeletes = 5'000;
constexpr int kSyncPuts = 100;
// Fixed, not printed-and-overridable like a test seed: a different seed is a
// different workload with different figures.
constexpr uint64_t kSeed = 0x1c0;

// Slot s is key 2s ("%016llu"); key 2s+1 is never written, so it misses while
// lying inside the tables' key range (the bloom filter has to answer).
std::string KeyNumber(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(n));
  return buf;
}

// Counts depend on the compiler: ci/perf_gate.sh records this in the baseline.
std::string CompilerName() {
#if defined(__clang__)
  std::string name = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  std::string name = std::string("gcc ") + __VERSION__;
#else
  std::string name = "unknown";
#endif
  while (!name.empty() && name.back() == ' ') name.pop_back();
  return name;
}

std::string BuildFlags() {
#if defined(__OPTIMIZE__)
  std::string flags = "optimized";
#else
  std::string flags = "not-optimized";
#endif
#if defined(NDEBUG)
  flags += ",NDEBUG";
#else
  flags += ",assertions";
#endif
  return flags;
}

class Workload {
 public:
  explicit Workload(std::string path);
  ~Workload();
  // Runs every phase in order; false (after printing why) on the first error.
  bool Run();

 private:
  bool Put();
  bool GetFrom(const char* phase, int count);
  bool FlushPhase(uint64_t entries);
  bool Batch();
  bool Compact();
  bool GetMiss();
  bool ScanPhase();
  bool DeletePhase();
  bool SyncPut();
  bool Reopen();
  bool VerifyAll();

  void Begin() { CALLGRIND_ZERO_STATS; }
  void End(const char* phase, uint64_t ops);
  bool Fail(const char* phase, const std::string& what);
  bool CheckStatus(const char* phase, const Status& s);
  // Prepares the value of the next write to `slot` in the model.
  const std::string& NextValue(uint64_t slot);
  std::vector<uint64_t> RandomPresentSlots(int count);

  const std::string path_;
  std::unique_ptr<DB> db_;
  Random rnd_{kSeed};
  std::vector<std::string> keys_;       // by slot
  std::vector<std::string> miss_keys_;  // by slot: key 2s+1
  std::vector<std::string> model_;      // by slot: the latest value written
  std::vector<char> present_;           // by slot
  std::string value_;                   // Get's output, reused so no phase allocates it
};

Workload::Workload(std::string path)
    : path_(std::move(path)), model_(kKeySlots), present_(kKeySlots, 0) {
  keys_.reserve(kKeySlots);
  miss_keys_.reserve(kKeySlots);
  for (uint64_t s = 0; s < kKeySlots; s++) {
    keys_.push_back(KeyNumber(2 * s));
    miss_keys_.push_back(KeyNumber(2 * s + 1));
  }
  value_.reserve(kValueBytes);
}

Workload::~Workload() {
  if (db_ != nullptr) (void)db_->Close();
}

void Workload::End(const char* phase, uint64_t ops) {
  std::string name = "phase=" + std::string(phase) + " ops=" + std::to_string(ops);
  CALLGRIND_DUMP_STATS_AT(name.c_str());
  std::printf("icount: %-10s ops=%llu\n", phase, static_cast<unsigned long long>(ops));
}

bool Workload::Fail(const char* phase, const std::string& what) {
  std::fprintf(stderr, "lightning_icount: %s: %s\n", phase, what.c_str());
  return false;
}

bool Workload::CheckStatus(const char* phase, const Status& s) {
  return s.ok() || Fail(phase, s.ToString());
}

const std::string& Workload::NextValue(uint64_t slot) {
  std::string& v = model_[slot];
  v.resize(kValueBytes);
  for (size_t i = 0; i < kValueBytes; i += 8) {
    uint64_t r = rnd_.Next64();
    for (size_t j = 0; j < 8 && i + j < kValueBytes; j++)
      v[i + j] = static_cast<char>(r >> (8 * j));
  }
  return v;
}

std::vector<uint64_t> Workload::RandomPresentSlots(int count) {
  std::vector<uint64_t> slots;
  slots.reserve(count);
  while (static_cast<int>(slots.size()) < count) {
    uint64_t s = rnd_.Uniform(kKeySlots);
    if (present_[s]) slots.push_back(s);
  }
  return slots;
}

// Sequential puts into the memtable, one log write each.
bool Workload::Put() {
  for (uint64_t s = 0; s < kLoadKeys; s++) NextValue(s);
  Begin();
  for (uint64_t s = 0; s < kLoadKeys; s++) {
    if (!CheckStatus("put", db_->Put(WriteOptions(), keys_[s], model_[s]))) return false;
    present_[s] = 1;
  }
  End("put", kLoadKeys);
  return true;
}

// Random hits: from the memtable, the block cache or (after a reopen) disk,
// depending on when it runs.
bool Workload::GetFrom(const char* phase, int count) {
  std::vector<uint64_t> slots = RandomPresentSlots(count);
  ReadOptions ro;
  Begin();
  for (uint64_t s : slots) {
    if (!CheckStatus(phase, db_->Get(ro, keys_[s], &value_))) return false;
    if (value_ != model_[s]) return Fail(phase, "wrong value for key " + keys_[s]);
  }
  End(phase, count);
  return true;
}

// The memtable to a level-0 table, by the background thread; Flush waits for
// it. Operations are the entries flushed (`entries`, the memtable's count).
bool Workload::FlushPhase(uint64_t entries) {
  Begin();
  if (!CheckStatus("flush", db_->Flush())) return false;
  End("flush", entries);
  return true;
}

// Atomic batches of random keys: about half overwrite a loaded key.
bool Workload::Batch() {
  std::vector<WriteBatch> batches(kBatches);
  for (auto& batch : batches) {
    for (int i = 0; i < kBatchPuts; i++) {
      uint64_t s = rnd_.Uniform(kKeySlots);
      batch.Put(keys_[s], NextValue(s));
      present_[s] = 1;
    }
  }
  Begin();
  for (auto& batch : batches) {
    if (!CheckStatus("batch", db_->Write(WriteOptions(), &batch))) return false;
  }
  End("batch", kBatches * kBatchPuts);
  return true;
}

// Two overlapping level-0 tables merged into level 1: a real merge, not a
// trivial move. Operations are the input entries (live keys plus overwrites).
bool Workload::Compact() {
  uint64_t inputs = kLoadKeys + kBatches * kBatchPuts;
  Begin();
  if (!CheckStatus("compact", db_->CompactAll())) return false;
  End("compact", inputs);
  return true;
}

// Absent keys inside the key range: the bloom filter's path.
bool Workload::GetMiss() {
  std::vector<uint64_t> slots(kGets);
  for (auto& s : slots) s = rnd_.Uniform(kKeySlots);
  ReadOptions ro;
  Begin();
  for (uint64_t s : slots) {
    Status st = db_->Get(ro, miss_keys_[s], &value_);
    if (!st.IsNotFound()) return Fail("get-miss", "key " + miss_keys_[s] + ": " + st.ToString());
  }
  End("get-miss", kGets);
  return true;
}

// A new iterator per scan, Seek to a random slot's key (present or not), then
// kScanNexts Nexts. Operations are scans.
bool Workload::ScanPhase() {
  std::vector<uint64_t> starts(kScans);
  std::vector<std::vector<uint64_t>> expected(kScans);
  for (int i = 0; i < kScans; i++) {
    starts[i] = rnd_.Uniform(kKeySlots);
    for (uint64_t s = starts[i]; s < kKeySlots && expected[i].size() <= kScanNexts; s++) {
      if (present_[s]) expected[i].push_back(s);
    }
  }
  ReadOptions ro;
  Begin();
  for (int i = 0; i < kScans; i++) {
    std::unique_ptr<Iterator> it = db_->NewIterator(ro);
    it->Seek(keys_[starts[i]]);
    for (uint64_t s : expected[i]) {
      if (!it->Valid() || it->key() != keys_[s] || it->value() != model_[s]) {
        return Fail("scan", "wrong entry where " + keys_[s] + " was expected");
      }
      it->Next();
    }
    if (expected[i].size() <= kScanNexts && it->Valid()) return Fail("scan", "entry past the end");
    if (!CheckStatus("scan", it->status())) return false;
  }
  End("scan", kScans);
  return true;
}

// Tombstones into the memtable.
bool Workload::DeletePhase() {
  std::vector<uint64_t> slots(kDeletes);
  for (auto& s : slots) {
    s = rnd_.Uniform(kKeySlots);
    present_[s] = 0;
  }
  Begin();
  for (uint64_t s : slots) {
    if (!CheckStatus("delete", db_->Delete(WriteOptions(), keys_[s]))) return false;
  }
  End("delete", kDeletes);
  return true;
}

// Durable puts: the user-space cost of a log write plus its fsync (the
// kernel's share is not counted by callgrind).
bool Workload::SyncPut() {
  std::vector<uint64_t> slots(kSyncPuts);
  for (auto& s : slots) {
    s = rnd_.Uniform(kKeySlots);
    NextValue(s);
    present_[s] = 1;
  }
  WriteOptions wo;
  wo.sync = true;
  Begin();
  for (uint64_t s : slots) {
    if (!CheckStatus("sync-put", db_->Put(wo, keys_[s], model_[s]))) return false;
  }
  End("sync-put", kSyncPuts);
  return true;
}

// Close (which flushes the memtable) and open again (manifest, recovery, a new
// background thread). One operation.
bool Workload::Reopen() {
  Begin();
  if (!CheckStatus("reopen", db_->Close())) return false;
  db_.reset();
  if (!CheckStatus("reopen", DB::Open(Options(), path_, &db_))) return false;
  End("reopen", 1);
  return true;
}

// Not measured: the whole database against the model.
bool Workload::VerifyAll() {
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  for (uint64_t s = 0; s < kKeySlots; s++) {
    if (!present_[s]) continue;
    if (!it->Valid() || it->key() != keys_[s] || it->value() != model_[s]) {
      return Fail("verify", "wrong entry where " + keys_[s] + " was expected");
    }
    it->Next();
  }
  if (it->Valid()) return Fail("verify", "unexpected key " + std::string(it->key()));
  return CheckStatus("verify", it->status());
}

bool Workload::Run() {
  if (!CheckStatus("open", DB::Open(Options(), path_, &db_))) return false;
  return Put() && GetFrom("get-mem", kGets) && FlushPhase(kLoadKeys) && Batch() &&
         FlushPhase(kBatches * kBatchPuts) && Compact() && GetFrom("get-hit", kGets) && GetMiss() &&
         ScanPhase() && DeletePhase() && SyncPut() && Reopen() && GetFrom("get-cold", kColdGets) &&
         VerifyAll() && CheckStatus("close", db_->Close());
}

// The database lives at the relative path "db" inside a fresh directory made
// the working directory, and no string here depends on where that directory
// is: the heap then holds the same allocations in the same order wherever
// TMPDIR points. A different heap layout moves glibc's memcmp/memcpy onto
// other alignment paths (up to 0.2% per phase, measured).
int Main(int argc, char** argv) {
  const char* parent = getenv("TMPDIR");
  if (parent == nullptr || *parent == '\0') parent = "/tmp";
  for (int i = 1; i < argc; i++) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--dir=")) {
      parent = argv[i] + 6;
    } else if (arg == "--dir" && i + 1 < argc) {
      parent = argv[++i];
    } else {
      std::fprintf(stderr, "usage: lightning_icount [--dir DIR]\n");
      return 2;
    }
  }
  char dir[PATH_MAX];
  int n = std::snprintf(dir, sizeof(dir), "%s/lightning_icount.XXXXXX", parent);
  if (n < 0 || n >= static_cast<int>(sizeof(dir)) || mkdtemp(dir) == nullptr || chdir(dir) != 0) {
    std::fprintf(stderr, "lightning_icount: cannot create a directory under %s\n", parent);
    return 2;
  }
  std::printf("icount: compiler %s\n", CompilerName().c_str());
  std::printf("icount: build %s\n", BuildFlags().c_str());
  std::printf("icount: callgrind client requests %s, %s valgrind\n",
              kHaveCallgrind ? "compiled in" : "NOT compiled in (no valgrind/callgrind.h)",
              RUNNING_ON_VALGRIND ? "running under" : "not running under");
  bool ok = Workload("db").Run();
  std::error_code ec;
  if (chdir("/") != 0 || !std::filesystem::remove_all(dir, ec) || ec) {
    std::fprintf(stderr, "lightning_icount: could not remove %s\n", dir);
  }
  std::printf("icount: %s\n", ok ? "all reads verified" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace lightning

int main(int argc, char** argv) { return lightning::Main(argc, argv); }
