// Table: an open, immutable table file (format in format.h), read by many
// threads at once.
//
// Open reads and verifies the footer, the index block (kept in memory) and the
// bloom filter; data blocks are read on demand and shared through the block
// cache when there is one. When the file system maps the file into memory
// (the POSIX one does), uncompressed data blocks are used in place instead:
// no copy, no cache, and each block's checksum is verified on its first use
// only (a bit per block remembers it; the handles come from the verified
// index, so they are trusted). Any damage, or a file that is not a table, is
// a Corruption naming the file (and offset).
//
// Fences: a point read finds its data block without decoding the index. At
// Open the index is copied into two flat arrays: each block's handle, and 8
// bytes of its last user key (the bytes after the prefix all index keys
// share, big-endian, zero-padded), so that the search is a binary search
// over integers touching a few cache lines. The index block decides instead
// when the target's 8 bytes equal a fence, when the target lacks the shared
// prefix, and for a table without fences (one block, or an index whose
// handles do not decode or whose fences would go down).
//
// Thread safety: all methods are const and safe to call concurrently. The
// Table must outlive the iterators it returns.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/file_system.h"
#include "lightning/options.h"
#include "lightning/status.h"
#include "lightning/table/block.h"
#include "lightning/table/format.h"
#include "lightning/util/block_cache.h"
#include "lightning/util/internal_iterator.h"

namespace lightning {

class Table {
 public:
  // `cache` may be null; otherwise it must outlive the table.
  static Status Open(const Options& options, std::string file_name,
                     std::unique_ptr<RandomAccessFile> file, uint64_t file_size, BlockCache* cache,
                     std::unique_ptr<Table>* table);

  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // An iterator over every entry, in internal key order. Blocks it reads go
  // into the cache unless !ro.fill_cache.
  InternalIterator* NewIterator(const ReadOptions& ro) const;

  // Finds the first entry >= internal_key. If the bloom filter rules out its
  // user key, returns OK without calling `found`; otherwise calls found(key,
  // value) at most once with that entry (the caller checks the user key).
  Status Get(const ReadOptions& ro, std::string_view internal_key,
             const std::function<void(std::string_view key, std::string_view value)>& found) const;

  // Reads every data block, checking its checksum and structure.
  Status VerifyChecksums() const;

  // The number of fences (see the top of this file): 0 when the index has
  // none. For tests.
  size_t fence_count() const { return fences_.size(); }

  // The file offset where the entries >= internal_key begin (approximately).
  uint64_t ApproximateOffsetOf(std::string_view internal_key) const;

 private:
  Table(std::string file_name, std::unique_ptr<RandomAccessFile> file, uint64_t file_size,
        BlockCache* cache);

  Status ReadMetadata(const Footer& footer);
  void BuildFences();
  // The handle of the only data block that can hold the first entry >=
  // internal_key: 1 found, 0 none (past the last block), -1 undecided.
  int FindBlockByFence(std::string_view internal_key, BlockHandle* handle) const;
  Status CheckHandle(const BlockHandle& handle) const;
  Status DecodeHandle(std::string_view index_value, BlockHandle* handle) const;
  Status LoadBlock(const BlockHandle& handle, bool verify_checksum,
                   std::shared_ptr<const Block>* block) const;
  Status ReadDataBlock(const ReadOptions& ro, const BlockHandle& handle,
                       std::shared_ptr<const Block>* block) const;
  // The block's contents in place in the mapped file, or empty (and OK) when
  // the file is not mapped or the block is compressed.
  Status DataBlockInPlace(const ReadOptions& ro, const BlockHandle& handle,
                          std::string_view* contents) const;
  InternalIterator* NewDataIterator(const ReadOptions& ro, std::string_view index_value) const;
  InternalIterator* NewIndexIterator() const;

  const std::string file_name_;
  const std::unique_ptr<RandomAccessFile> file_;
  const uint64_t file_size_;
  BlockCache* const cache_;  // may be null
  const uint64_t cache_id_;
  std::shared_ptr<const Block> index_block_;
  std::string filter_;  // empty: no filter
  // The fences (see the top of this file), empty when the index does not
  // allow them (one block, or keys out of order in a damaged file).
  std::string fence_prefix_;
  std::vector<uint64_t> fences_;
  std::vector<BlockHandle> fence_handles_;
  const std::string_view mapped_;  // the whole file, or empty when it is not mapped
  // With mapped_: bit (offset / 16) is set once the data block at that offset
  // passed its checksum (every block, trailer included, spans >= 16 bytes).
  const std::unique_ptr<std::atomic<uint8_t>[]> verified_;
};

}  // namespace lightning
