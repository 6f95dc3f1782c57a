// Block: a parsed, immutable block (format in block_builder.h) and its iterator.
//
// Parse validates the restart array once; the iterator then decodes entries
// lazily and reports Corruption (naming the file and the block's offset)
// rather than reading outside the block, whatever the bytes. Every key in a
// table is an internal key, so a key shorter than kTagBytes is Corruption too;
// that keeps comparators that read the tag within bounds.
//
// Thread safety: a Block is immutable and may be shared (the block cache hands
// out shared_ptr<const Block>); each iterator is used by one thread at a time
// and holds a reference that keeps its block alive.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lightning/status.h"
#include "lightning/util/comparator.h"
#include "lightning/util/internal_iterator.h"

namespace lightning {

class Block {
 public:
  // Takes ownership of `contents` (the uncompressed block read at `offset` of
  // `file_name`). Corruption if the restart array is malformed.
  static Status Parse(std::string contents, std::string_view file_name, uint64_t offset,
                      std::shared_ptr<const Block>* out);

  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Bytes held in memory (the block cache's charge).
  size_t size() const { return data_.size(); }

  // An iterator over the entries in `cmp` order. REQUIRES: self.get() == this.
  InternalIterator* NewIterator(std::shared_ptr<const Block> self, const Comparator* cmp) const;

 private:
  class Iter;

  Block(std::string data, std::string_view file_name, uint64_t offset, uint32_t restarts_offset,
        uint32_t num_restarts);

  uint32_t RestartPoint(uint32_t index) const;
  Status Corruption(std::string_view what) const;

  const std::string data_;
  const std::string file_name_;
  const uint64_t offset_;           // of the block in its file, for messages
  const uint32_t restarts_offset_;  // where entries end and the restart array begins
  const uint32_t num_restarts_;     // >= 1
};

}  // namespace lightning
