// Options for opening a database, reading and writing.
//
// Every size carries its unit in its name. The defaults are what users get and
// what the perf suite measures; tests shrink them to make flushes, compactions
// and cache evictions happen within a few operations.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lightning {

class FileSystem;
class Snapshot;

enum class Engine { kLsm, kBTree };
enum class Compression { kNone, kLz4 };

struct Options {
  Engine engine = Engine::kLsm;
  bool create_if_missing = true;
  bool error_if_exists = false;
  FileSystem* fs = nullptr;  // nullptr: the real POSIX file system

  // LSM: bytes of memtable before it is frozen and flushed to level 0.
  // B+Tree: bytes of new pages kept in memory before a checkpoint writes
  // them (random writes coalesce in them: the larger, the fewer page writes).
  // 0: the engine's default, 8 MiB for the LSM and 64 MiB for the B+Tree.
  size_t write_buffer_bytes = 0;
  // LSM: target uncompressed size of a table's data block.
  size_t block_bytes = 4096;
  // Entries between restart points in a data block.
  int block_restart_interval = 16;
  // Capacity of the block cache shared by all tables of this database.
  size_t block_cache_bytes = 32 << 20;
  // Table files kept open in the table cache.
  int max_open_tables = 1000;
  Compression compression = Compression::kLz4;
  // Bloom filter bits per key; 0 disables filters.
  int bloom_bits_per_key = 10;
  // Target size of a table file written by compaction.
  size_t target_file_bytes = 4 << 20;
  // Level 1's size budget; each deeper level is 10x the previous one.
  uint64_t max_level1_bytes = 32ull << 20;
  // Level-0 file counts: start compacting / slow writers down / make writers wait.
  int level0_compaction_trigger = 4;
  int level0_slowdown_trigger = 8;
  int level0_stop_trigger = 12;

  // LSM: 0 (the default) hands every write to the OS (write(2)) before it
  // returns, so it survives a process crash (kill -9). N > 0 is a faster mode
  // with a weaker process-crash promise: writes with sync=false collect in a
  // buffer of up to N bytes (at most 64 MiB) that is written out when full, by
  // a sync=true write or Sync(), when the memtable is switched, and by
  // Close(); a process crash loses the writes still in the buffer. What
  // survives any crash is still a prefix that holds every synced write.
  size_t log_buffer_bytes = 0;
};

struct ReadOptions {
  const Snapshot* snapshot = nullptr;  // nullptr: the latest state
  bool verify_checksums = true;
  bool fill_cache = true;  // false: blocks read for this operation bypass the block cache
};

struct WriteOptions {
  bool sync = false;  // true: durable (fsync'd) before returning OK
};

}  // namespace lightning
