// TableCache: open table files, shared by every reader, bounded in count.
//
// Opening a table reads and verifies its footer, index and filter, so open
// tables are kept (LRU, at most max_open_tables). Iterators and Gets hold a
// shared_ptr to the Table they use, so eviction never closes a table under a
// reader. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "lightning/file_system.h"
#include "lightning/options.h"
#include "lightning/util/internal_iterator.h"

namespace lightning {

class BlockCache;
class Table;

class TableCache {
 public:
  TableCache(std::string dir, const Options& options, BlockCache* block_cache);

  // Corruption naming the file if it is damaged or foreign.
  Status FindTable(uint64_t number, uint64_t file_bytes, std::shared_ptr<Table>* table);
  InternalIterator* NewIterator(const ReadOptions& ro, uint64_t number, uint64_t file_bytes);
  // Calls found(key, value) with the first entry >= internal_key, unless the
  // table's filter rules the key out.
  Status Get(const ReadOptions& ro, uint64_t number, uint64_t file_bytes,
             std::string_view internal_key,
             const std::function<void(std::string_view, std::string_view)>& found);
  // Forgets a table that compaction made obsolete.
  void Evict(uint64_t number);

 private:
  using LruList = std::list<std::pair<uint64_t, std::shared_ptr<Table>>>;

  const std::string dir_;
  const Options& options_;
  BlockCache* const block_cache_;
  std::mutex mu_;  // guards lru_ and index_
  LruList lru_;    // most recently used first
  std::unordered_map<uint64_t, LruList::iterator> index_;
};

}  // namespace lightning
