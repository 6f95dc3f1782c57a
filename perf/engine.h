// Store: the few calls the perf workloads make, implemented once per engine
// under test (Lightning, RocksDB, LevelDB, LMDB, SQLite, and a raw POSIX log).
//
// Every call returns "" on success, else the engine's own error text; a
// missing key is not an error (Get sets *found). Each adapter does what a
// user of that engine would do, with the settings spec/workloads.md writes
// down, and says so in its labels.
//
// Thread safety: Put, Get, Delete, Write and Sync may be called from several
// threads at once (W6, W7.t10); each adapter makes that safe the way a user
// would (its `concurrency` label says how). Open, Close and Scan are called
// by one thread at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lightning::perf {

// A key and its value, viewing bytes the caller owns.
struct KeyValue {
  std::string_view key;
  std::string_view value;
};

// Receives one entry of a scan, in key order.
using ScanFn = std::function<void(std::string_view key, std::string_view value)>;

class Store {
 public:
  virtual ~Store() = default;

  // Opens the database in `dir` (an existing, possibly empty directory),
  // creating it if empty.
  virtual std::string Open(const std::string& dir) = 0;
  // sync=true: durable before it returns (the engine's own way; see labels).
  virtual std::string Put(std::string_view key, std::string_view value, bool sync) = 0;
  virtual std::string Get(std::string_view key, std::string* value, bool* found) = 0;
  // Deleting an absent key succeeds.
  virtual std::string Delete(std::string_view key) = 0;
  // All of `puts` atomically, not synced.
  virtual std::string Write(std::span<const KeyValue> puts) = 0;
  // Calls fn for up to n entries with key >= start, in key order.
  virtual std::string Scan(std::string_view start, size_t n, const ScanFn& fn) = 0;
  // Makes every earlier write durable.
  virtual std::string Sync() = 0;
  // Closes; Open may be called again on the same directory.
  virtual std::string Close() = 0;
};

// One engine as the suite shows it: name, settings labels, and a factory.
struct EngineInfo {
  std::string name;         // "lightning", "rocksdb", ... (benchmark names: <id>/<name>)
  std::string settings;     // every row's label, e.g. "MDB_NOSYNC, txn per put"
  std::string concurrency;  // added to threaded rows: how writers share the engine
  std::string sync;         // added to rows with sync=true or a timed Sync: how it syncs
  std::function<std::unique_ptr<Store>()> make;
  // The workload ids this engine runs; empty: all of them. A buffered-log
  // row only runs the write workloads, where the log is what differs.
  std::vector<std::string> only = {};
};

// The write workloads a buffered-log row runs beside the defaults.
inline const std::vector<std::string> kBufferedLogWorkloads = {
    "W1", "W3.b1000", "W3.b5000", "W4", "W6", "S1", "S3", "S4", "S5"};
// The log buffer of the lightning-buffered row: 1 MiB, as RocksDB's WAL
// buffer (writable_file_max_buffer_size) in the rocksdb-buffered row.
inline constexpr size_t kBufferedLogBytes = 1 << 20;

// Lightning with default Options; btree=true sets Options::engine = kBTree.
EngineInfo LightningEngine(bool btree);
// Options::log_buffer_bytes = kBufferedLogBytes: the faster mode with a weaker
// process-crash promise (a kill -9 loses the buffered writes).
EngineInfo LightningBufferedEngine();
// "" if this Lightning opens a kBTree database in `scratch_dir`, else why not
// (the NotSupported status text). Other errors are left to the benchmarks.
std::string LightningBTreeUnsupported(const std::string& scratch_dir);
// write()+fdatasync() of each record appended to one file, with an in-memory
// index for reading back: the floor under any Put that survives kill -9 (W1.raw)
// or a power loss (W7.raw), and under writing the bytes once (W4.raw).
EngineInfo PosixLogEngine();

// Each peer's adapter file is compiled only when CMake found the peer
// (LIGHTNING_HAVE_<PEER>); otherwise the suite reports it as MISSING.
#ifdef LIGHTNING_HAVE_ROCKSDB
EngineInfo RocksDbEngine();
// manual_wal_flush: the WAL is written when its 1 MiB buffer fills or on
// FlushWAL, RocksDB's equivalent of lightning-buffered.
EngineInfo RocksDbBufferedEngine();
#endif
#ifdef LIGHTNING_HAVE_LEVELDB
EngineInfo LevelDbEngine();
#endif
#ifdef LIGHTNING_HAVE_LMDB
EngineInfo LmdbEngine();
#endif
#ifdef LIGHTNING_HAVE_SQLITE
EngineInfo SqliteEngine();
#endif

}  // namespace lightning::perf
