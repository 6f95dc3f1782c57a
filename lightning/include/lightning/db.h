// DB: Lightning's public API. Include this header and nothing else.
//
// A DB is an ordered map from byte-string keys to byte-string values, stored
// in a directory, kept across crashes as durability.md promises:
//  - A write returns after it is in the write-ahead log handed to the OS: it
//    survives a process crash. WriteOptions::sync, or Sync(), makes it (and
//    every write acknowledged before it) survive a power loss.
//  - After any crash the database recovers a prefix of the writes that
//    includes every synced one; a WriteBatch is never split.
//  - A clean Close() (or the destructor) loses nothing acknowledged.
//
// Limits: keys 0..65,536 bytes, values 0..256 MiB, a batch at most 1 GiB
// encoded; larger gives InvalidArgument and applies nothing.
//
// Thread safety: every DB method may be called from many threads at once.
// Synced writers (and Sync() calls) that queue together are grouped into one
// log write and one fsync (group commit); a write without sync appends its
// own record. Readers never wait for a writer's I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/iterator.h"
#include "lightning/options.h"
#include "lightning/status.h"
#include "lightning/write_batch.h"

namespace lightning {

inline constexpr size_t kMaxKeyBytes = 65536;
inline constexpr size_t kMaxValueBytes = 256u << 20;
inline constexpr size_t kMaxBatchBytes = 1u << 30;

// A read-only point-in-time view, from DB::GetSnapshot. Opaque to users.
class Snapshot {
 protected:
  virtual ~Snapshot();
};

class DB {
 public:
  // Opens (or, with create_if_missing, creates) the database in directory
  // `path`, recovering from a crash if needed. Returns Busy if the database is
  // open elsewhere, InvalidArgument for bad options or a missing database,
  // Corruption (naming the file) for damage outside the crash model,
  // NotSupported for an engine that is not built.
  static Status Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db);

  DB() = default;
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  virtual ~DB();  // closes; a clean close loses nothing acknowledged

  virtual Status Put(const WriteOptions&, std::string_view key, std::string_view value) = 0;
  virtual Status Delete(const WriteOptions&, std::string_view key) = 0;  // OK if absent
  // Applies the whole batch atomically. REQUIRES: batch != nullptr.
  virtual Status Write(const WriteOptions&, WriteBatch* batch) = 0;
  // NotFound if absent; Corruption or IOError if a read failed.
  virtual Status Get(const ReadOptions&, std::string_view key, std::string* value) = 0;

  virtual std::unique_ptr<Iterator> NewIterator(const ReadOptions&) = 0;
  // [start, end) in key order; an empty `end` means unbounded.
  std::unique_ptr<Iterator> Scan(const ReadOptions&, std::string_view start, std::string_view end);
  // Every key that begins with `prefix`, in key order.
  std::unique_ptr<Iterator> ScanPrefix(const ReadOptions&, std::string_view prefix);

  // The snapshot stays readable until ReleaseSnapshot; release every snapshot
  // before the DB is destroyed.
  virtual const Snapshot* GetSnapshot() = 0;
  virtual void ReleaseSnapshot(const Snapshot*) = 0;

  // Every write acknowledged before the call is durable when it returns OK.
  virtual Status Sync() = 0;
  // LSM: the memtable to a table file. B+Tree: a checkpoint.
  virtual Status Flush() = 0;
  // Explicit close with a Status: flushes, releases the lock, and afterwards
  // every call that returns a Status returns InvalidArgument (NewIterator,
  // Scan and ScanPrefix return an iterator whose status() says so). A second
  // Close returns OK. Iterators created before Close keep their point-in-time
  // view and may be used and destroyed after it; like snapshots (which must
  // still be released), they must be gone before the DB object is destroyed.
  virtual Status Close() = 0;

  // Both engines: "lightning.stats" (a human-readable summary),
  // "lightning.write-amplification", "lightning.last-sequence". LSM:
  // "lightning.num-files-at-level<N>", "lightning.block-cache-hit-rate", ...
  // B+Tree: "lightning.btree.<key>" for each "key value" line of its stats
  // (height, entries, pages, free-pages, dirty-pages, cache-hits, ...); these
  // queue behind the writes in progress, as the counters belong to the writer.
  // False for a name the engine does not know.
  virtual bool GetProperty(std::string_view name, std::string* value) = 0;

  // Not in api.md; engine-provided maintenance. Default: NotSupported.
  // Compacts everything into the last populated level.
  virtual Status CompactAll();
  // Reads every entry and verifies every checksum of every file; Corruption
  // names the damaged file.
  virtual Status Check();
};

// Deletes the database's files and its directory. Busy if it is open.
Status DestroyDB(const std::string& path, const Options& options);

}  // namespace lightning
