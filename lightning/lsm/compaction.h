// Writing table files: flushing a memtable, and compacting one level into the next.
//
// A compaction merges its input files and writes the result to level + 1,
// dropping an entry only when no reader can see it:
//  - an older version of a key, once a newer version of the same key is
//    visible to the oldest live snapshot;
//  - a tombstone at or below the oldest snapshot, when no deeper level can
//    hold the key (nothing left for it to hide).
// Output files are cut near target_file_bytes, never between two versions of
// one user key (so no user key spans two files of a level). Every output is
// fsync'd and its directory entry made durable before the caller records it in
// the manifest.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lightning/lsm/version_set.h"

namespace lightning {

struct TableOutputContext {
  std::string dir;
  const Options* options = nullptr;
  std::function<uint64_t()> new_file_number;  // thread-safe
  uint64_t max_file_bytes = UINT64_MAX;
};

struct CompactionStats {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
};

// Writes every entry of `input` (internal keys, sorted) into table files.
Status WriteTables(const TableOutputContext& ctx, InternalIterator* input,
                   std::vector<FileMetaData>* outputs, CompactionStats* stats);

// Runs compaction `c`; `smallest_snapshot` is the oldest sequence any reader can ask for.
// When it sees `shutting_down` it stops early, sets *abandoned and returns a
// non-OK status; any other failure (a failed write or sync of an output) leaves
// *abandoned false, so the caller never mistakes a real I/O error for the abort.
Status RunCompaction(const TableOutputContext& ctx, const Compaction& c, TableCache* cache,
                     SequenceNumber smallest_snapshot, const std::atomic<bool>& shutting_down,
                     std::vector<FileMetaData>* outputs, CompactionStats* stats, bool* abandoned);

}  // namespace lightning
