#include "lightning/table/block.h"

#include <cassert>

#include "lightning/lsm/dbformat.h"
#include "lightning/util/coding.h"

namespace lightning {

Status Block::Parse(std::string contents, std::string_view file_name, uint64_t offset,
                    std::shared_ptr<const Block>* out) {
  auto corruption = [&](std::string_view what) {
    return Status::Corruption(std::string(file_name) + ": block at offset " +
                              std::to_string(offset) + ": " + std::string(what));
  };
  const size_t size = contents.size();
  if (size < sizeof(uint32_t) || size > UINT32_MAX) return corruption("bad block size");
  const char* restarts_end = contents.data() + size - sizeof(uint32_t);
  const uint32_t num_restarts = DecodeFixed32(restarts_end);
  if (num_restarts == 0 || num_restarts > (size - sizeof(uint32_t)) / sizeof(uint32_t)) {
    return corruption("bad restart count");
  }
  const uint32_t restarts_offset =
      static_cast<uint32_t>(size - sizeof(uint32_t) * (num_restarts + 1));
  // The first restart is the first entry; the rest increase and start entries.
  uint32_t prev = 0;
  for (uint32_t i = 0; i < num_restarts; i++) {
    uint32_t r = DecodeFixed32(contents.data() + restarts_offset + i * sizeof(uint32_t));
    if (i == 0 ? r != 0 : (r <= prev || r >= restarts_offset)) return corruption("bad restart");
    prev = r;
  }
  out->reset(new Block(std::move(contents), file_name, offset, restarts_offset, num_restarts));
  return Status::OK();
}

Block::Block(std::string data, std::string_view file_name, uint64_t offset,
             uint32_t restarts_offset, uint32_t num_restarts)
    : data_(std::move(data)),
      file_name_(file_name),
      offset_(offset),
      restarts_offset_(restarts_offset),
      num_restarts_(num_restarts) {}

uint32_t Block::RestartPoint(uint32_t index) const {
  assert(index < num_restarts_);
  return DecodeFixed32(data_.data() + restarts_offset_ + index * sizeof(uint32_t));
}

Status Block::Corruption(std::string_view what) const {
  return Status::Corruption(file_name_ + ": block at offset " + std::to_string(offset_) + ": " +
                            std::string(what));
}

// Positioned on the entry at current_ (whose successor starts at next_), or
// invalid with current_ == restarts_offset_. key_ holds the full current key,
// rebuilt from the shared prefix of the previous one.
class Block::Iter final : public InternalIterator {
 public:
  Iter(std::shared_ptr<const Block> block, const Comparator* cmp)
      : block_(std::move(block)),
        b_(*block_),
        cmp_(cmp),
        current_(b_.restarts_offset_),
        restart_index_(b_.num_restarts_) {}

  bool Valid() const override { return status_.ok() && current_ < b_.restarts_offset_; }
  std::string_view key() const override {
    assert(Valid());
    return key_;
  }
  std::string_view value() const override {
    assert(Valid());
    return value_;
  }
  Status status() const override { return status_; }

  void Next() override {
    assert(Valid());
    ParseNextKey();
  }

  void Prev() override {
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

  void Seek(std::string_view target) override {
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
    while (ParseNextKey() && cmp_->Compare(key_, target) < 0) {
    }
  }

  void SeekToFirst() override {
    SeekToRestartPoint(0);
    ParseNextKey();
  }

  void SeekToLast() override {
    SeekToRestartPoint(b_.num_restarts_ - 1);
    while (ParseNextKey() && next_ < b_.restarts_offset_) {
    }
  }

 private:
  struct Entry {
    uint32_t shared, non_shared, value_size;
    const char* delta;  // non_shared key bytes, then the value
  };

  // False if the entry at `offset` does not fit in the entry area.
  bool DecodeEntry(uint32_t offset, Entry* e) const {
    const char* p = b_.data_.data() + offset;
    const char* limit = b_.data_.data() + b_.restarts_offset_;
    if ((p = DecodeVarint32(p, limit, &e->shared)) == nullptr) return false;
    if ((p = DecodeVarint32(p, limit, &e->non_shared)) == nullptr) return false;
    if ((p = DecodeVarint32(p, limit, &e->value_size)) == nullptr) return false;
    e->delta = p;
    return uint64_t{e->non_shared} + e->value_size <= static_cast<uint64_t>(limit - p);
  }

  bool KeyAtRestart(uint32_t index, std::string_view* key) {
    Entry e;
    if (!DecodeEntry(b_.RestartPoint(index), &e) || e.shared != 0 || e.non_shared < kTagBytes) {
      Fail("bad entry at restart point");
      return false;
    }
    *key = std::string_view(e.delta, e.non_shared);
    return true;
  }

  void SeekToRestartPoint(uint32_t index) {
    key_.clear();
    value_ = {};
    restart_index_ = index;
    next_ = b_.RestartPoint(index);
  }

  // Moves to the entry at next_; false if there is none or it is malformed.
  bool ParseNextKey() {
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
    key_.resize(e.shared);
    key_.append(e.delta, e.non_shared);
    value_ = std::string_view(e.delta + e.non_shared, e.value_size);
    next_ = static_cast<uint32_t>(value_.data() + value_.size() - b_.data_.data());
    while (restart_index_ + 1 < b_.num_restarts_ &&
           b_.RestartPoint(restart_index_ + 1) <= current_) {
      restart_index_++;
    }
    return true;
  }

  void Fail(const std::string& what) {
    if (status_.ok()) status_ = b_.Corruption(what);
    current_ = b_.restarts_offset_;
    restart_index_ = b_.num_restarts_;
    key_.clear();
    value_ = {};
  }

  const std::shared_ptr<const Block> block_;
  const Block& b_;
  const Comparator* const cmp_;
  uint32_t current_;
  uint32_t next_ = 0;
  uint32_t restart_index_;  // the restart interval holding current_
  std::string key_;
  std::string_view value_;
  Status status_;
};

InternalIterator* Block::NewIterator(std::shared_ptr<const Block> self,
                                     const Comparator* cmp) const {
  assert(self.get() == this);
  return new Iter(std::move(self), cmp);
}

}  // namespace lightning
