#include "lightning/table/block.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "lightning/lsm/dbformat.h"
#include "lightning/util/coding.h"

namespace lightning {

Status Block::Parse(std::string contents, std::string_view file_name, uint64_t offset,
                    std::shared_ptr<const Block>* out) {
  auto block = std::make_shared<Block>();
  block->owned_ = std::move(contents);
  block->owned_name_ = file_name;
  Status s = block->Reset(block->owned_, block->owned_name_, offset);
  if (s.ok()) *out = std::move(block);
  return s;
}

Status Block::ParseInPlace(std::string_view contents, std::string_view file_name, uint64_t offset,
                           std::shared_ptr<const Block>* out) {
  auto block = std::make_shared<Block>();
  Status s = block->Reset(contents, file_name, offset);
  if (s.ok()) *out = std::move(block);
  return s;
}

Status Block::Reset(std::string_view contents, std::string_view file_name, uint64_t offset) {
  data_ = contents;
  file_name_ = file_name;
  offset_ = offset;
  restarts_offset_ = 0;
  num_restarts_ = 0;
  const size_t size = contents.size();
  if (size < sizeof(uint32_t) || size > UINT32_MAX) return Corruption("bad block size");
  const uint32_t num_restarts = DecodeFixed32(contents.data() + size - sizeof(uint32_t));
  if (num_restarts == 0 || num_restarts > (size - sizeof(uint32_t)) / sizeof(uint32_t)) {
    return Corruption("bad restart count");
  }
  const uint32_t restarts_offset =
      static_cast<uint32_t>(size - sizeof(uint32_t) * (num_restarts + 1));
  // The first restart is the first entry; the rest increase and start entries.
  uint32_t prev = 0;
  for (uint32_t i = 0; i < num_restarts; i++) {
    uint32_t r = DecodeFixed32(contents.data() + restarts_offset + i * sizeof(uint32_t));
    if (i == 0 ? r != 0 : (r <= prev || r >= restarts_offset)) return Corruption("bad restart");
    prev = r;
  }
  restarts_offset_ = restarts_offset;
  num_restarts_ = num_restarts;
  return Status::OK();
}

uint32_t Block::RestartPoint(uint32_t index) const {
  assert(index < num_restarts_);
  return DecodeFixed32(data_.data() + restarts_offset_ + index * sizeof(uint32_t));
}

Status Block::Corruption(std::string_view what) const {
  return Status::Corruption(std::string(file_name_) + ": block at offset " +
                            std::to_string(offset_) + ": " + std::string(what));
}

InternalIterator* Block::NewIterator(std::shared_ptr<const Block> self,
                                     const Comparator* cmp) const {
  assert(self.get() == this);
  return new Iter(*this, cmp, std::move(self));
}

void Block::Iter::KeyBuffer::Append(const char* p, size_t n) {
  if (size_ + n > capacity_) {
    const size_t capacity = std::max(size_ + n, 2 * capacity_);
    if (data_ == inline_) {
      heap_.assign(inline_, size_);
    }
    heap_.resize(capacity);
    data_ = heap_.data();
    capacity_ = capacity;
  }
  std::memcpy(data_ + size_, p, n);
  size_ += n;
}

Block::Iter::Iter(const Block& block, const Comparator* cmp,
                  std::shared_ptr<const Block> keep_alive)
    : keep_alive_(std::move(keep_alive)),
      b_(block),
      cmp_(cmp),
      current_(b_.restarts_offset_),
      restart_index_(b_.num_restarts_) {
  // A block whose Reset failed has no entries; its iterator is simply empty.
}

void Block::Iter::Next() {
  assert(Valid());
  ParseNextKey();
}

void Block::Iter::Prev() {
  assert(Valid());
  // Back up to the restart point before the current entry, then scan forward.
  const uint32_t original = current_;
  while (b_.RestartPoint(restart_index_) >= original) {
    if (restart_index_ == 0) {
      current_ = b_.restarts_offset_;
      restart_index_ = b_.num_restarts_;
      return;
    }
    restart_index_--;
  }
  SeekToRestartPoint(restart_index_);
  do {
    if (!ParseNextKey()) return;
  } while (next_ < original);
  if (next_ != original) Fail("entries do not line up with restart points");
}

void Block::Iter::Seek(std::string_view target) {
  if (b_.num_restarts_ == 0) return;
  // Binary search for the last restart whose key is < target.
  uint32_t left = 0, right = b_.num_restarts_ - 1;
  while (left < right) {
    const uint32_t mid = left + (right - left + 1) / 2;
    std::string_view mid_key;
    if (!KeyAtRestart(mid, &mid_key)) return;
    if (cmp_->Compare(mid_key, target) < 0) {
      left = mid;
    } else {
      right = mid - 1;
    }
  }
  SeekToRestartPoint(left);
  while (ParseNextKey() && cmp_->Compare(key_.view(), target) < 0) {
  }
}

void Block::Iter::SeekToFirst() {
  if (b_.num_restarts_ == 0) return;
  SeekToRestartPoint(0);
  ParseNextKey();
}

void Block::Iter::SeekToLast() {
  if (b_.num_restarts_ == 0) return;
  SeekToRestartPoint(b_.num_restarts_ - 1);
  while (ParseNextKey() && next_ < b_.restarts_offset_) {
  }
}

// False if the entry at `offset` does not fit in the entry area.
bool Block::Iter::DecodeEntry(uint32_t offset, Entry* e) const {
  const char* p = b_.data_.data() + offset;
  const char* limit = b_.data_.data() + b_.restarts_offset_;
  if ((p = DecodeVarint32(p, limit, &e->shared)) == nullptr) return false;
  if ((p = DecodeVarint32(p, limit, &e->non_shared)) == nullptr) return false;
  if ((p = DecodeVarint32(p, limit, &e->value_size)) == nullptr) return false;
  e->delta = p;
  return uint64_t{e->non_shared} + e->value_size <= static_cast<uint64_t>(limit - p);
}

bool Block::Iter::KeyAtRestart(uint32_t index, std::string_view* key) {
  Entry e;
  if (!DecodeEntry(b_.RestartPoint(index), &e) || e.shared != 0 || e.non_shared < kTagBytes) {
    Fail("bad entry at restart point");
    return false;
  }
  *key = std::string_view(e.delta, e.non_shared);
  return true;
}

void Block::Iter::SeekToRestartPoint(uint32_t index) {
  key_.Truncate(0);
  value_ = {};
  restart_index_ = index;
  next_ = b_.RestartPoint(index);
}

// Moves to the entry at next_; false if there is none or it is malformed.
bool Block::Iter::ParseNextKey() {
  current_ = next_;
  if (!status_.ok() || current_ >= b_.restarts_offset_) {
    current_ = b_.restarts_offset_;
    restart_index_ = b_.num_restarts_;
    return false;
  }
  Entry e;
  if (!DecodeEntry(current_, &e) || e.shared > key_.size() ||
      uint64_t{e.shared} + e.non_shared < kTagBytes) {
    Fail("bad entry at block offset " + std::to_string(current_));
    return false;
  }
  key_.Truncate(e.shared);
  key_.Append(e.delta, e.non_shared);
  value_ = std::string_view(e.delta + e.non_shared, e.value_size);
  next_ = static_cast<uint32_t>(value_.data() + value_.size() - b_.data_.data());
  while (restart_index_ + 1 < b_.num_restarts_ && b_.RestartPoint(restart_index_ + 1) <= current_) {
    restart_index_++;
  }
  return true;
}

void Block::Iter::Fail(const std::string& what) {
  if (status_.ok()) status_ = b_.Corruption(what);
  current_ = b_.restarts_offset_;
  restart_index_ = b_.num_restarts_;
  key_.Truncate(0);
  value_ = {};
}

}  // namespace lightning
