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

#include <cassert>
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
  class Iter;

  // Takes ownership of `contents` (the uncompressed block read at `offset` of
  // `file_name`). Corruption if the restart array is malformed.
  static Status Parse(std::string contents, std::string_view file_name, uint64_t offset,
                      std::shared_ptr<const Block>* out);
  // Like Parse, but refers to `contents` and `file_name` in place (a block of
  // a memory-mapped table): both must outlive the block and its iterators.
  static Status ParseInPlace(std::string_view contents, std::string_view file_name, uint64_t offset,
                             std::shared_ptr<const Block>* out);

  // An empty block, for a caller that keeps one on the stack and Resets it.
  Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  // Points this block at `contents`, in place, as ParseInPlace does.
  Status Reset(std::string_view contents, std::string_view file_name, uint64_t offset);

  // Bytes held in memory (the block cache's charge).
  size_t size() const { return data_.size(); }

  // An iterator over the entries in `cmp` order. REQUIRES: self.get() == this.
  InternalIterator* NewIterator(std::shared_ptr<const Block> self, const Comparator* cmp) const;

 private:
  uint32_t RestartPoint(uint32_t index) const;
  Status Corruption(std::string_view what) const;

  std::string owned_;       // the bytes, unless they are referred to in place
  std::string owned_name_;  // likewise the file name
  std::string_view data_;   // into owned_ or the caller's memory
  std::string_view file_name_;
  uint64_t offset_ = 0;           // of the block in its file, for messages
  uint32_t restarts_offset_ = 0;  // where entries end and the restart array begins
  uint32_t num_restarts_ = 0;     // >= 1 once Reset succeeded
};

// Positioned on the entry at current_ (whose successor starts at next_), or
// invalid with current_ == restarts_offset_. The key is rebuilt from the
// shared prefix of the previous one; a short key stays inline, so an
// iterator on the stack (Table::Get) allocates nothing.
class Block::Iter final : public InternalIterator {
 public:
  // `keep_alive` may hold the block (NewIterator); otherwise the caller keeps
  // `block` alive while the iterator is used.
  Iter(const Block& block, const Comparator* cmp,
       std::shared_ptr<const Block> keep_alive = nullptr);

  bool Valid() const override { return status_.ok() && current_ < b_.restarts_offset_; }
  std::string_view key() const override {
    assert(Valid());
    return key_.view();
  }
  std::string_view value() const override {
    assert(Valid());
    return value_;
  }
  Status status() const override { return status_; }
  void Next() override;
  void Prev() override;
  void Seek(std::string_view target) override;
  void SeekToFirst() override;
  void SeekToLast() override;

 private:
  struct Entry {
    uint32_t shared, non_shared, value_size;
    const char* delta;  // non_shared key bytes, then the value
  };
  // A key buffer whose first kInline bytes need no allocation.
  class KeyBuffer {
   public:
    KeyBuffer() = default;
    KeyBuffer(const KeyBuffer&) = delete;
    KeyBuffer& operator=(const KeyBuffer&) = delete;
    std::string_view view() const { return {data_, size_}; }
    size_t size() const { return size_; }
    void Truncate(size_t n) { size_ = n; }  // REQUIRES: n <= size()
    void Append(const char* p, size_t n);

   private:
    static constexpr size_t kInline = 48;
    char inline_[kInline];
    std::string heap_;
    char* data_ = inline_;
    size_t size_ = 0;
    size_t capacity_ = kInline;
  };

  bool DecodeEntry(uint32_t offset, Entry* e) const;
  bool KeyAtRestart(uint32_t index, std::string_view* key);
  void SeekToRestartPoint(uint32_t index);
  bool ParseNextKey();
  void Fail(const std::string& what);

  const std::shared_ptr<const Block> keep_alive_;
  const Block& b_;
  const Comparator* const cmp_;
  uint32_t current_;
  uint32_t next_ = 0;
  uint32_t restart_index_;  // the restart interval holding current_
  KeyBuffer key_;
  std::string_view value_;
  Status status_;
};

}  // namespace lightning
