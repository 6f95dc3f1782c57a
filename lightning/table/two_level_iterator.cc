#include "lightning/table/two_level_iterator.h"

#include <cassert>
#include <memory>
#include <string>

namespace lightning {
namespace {

class TwoLevelIterator final : public InternalIterator {
 public:
  TwoLevelIterator(InternalIterator* index_iter,
                   std::function<InternalIterator*(std::string_view)> block_function)
      : index_(index_iter), block_function_(std::move(block_function)) {}

  bool Valid() const override { return status_.ok() && data_ != nullptr && data_->Valid(); }
  std::string_view key() const override {
    assert(Valid());
    return data_->key();
  }
  std::string_view value() const override {
    assert(Valid());
    return data_->value();
  }
  Status status() const override { return status_; }

  void Seek(std::string_view target) override {
    index_->Seek(target);
    InitDataBlock();
    if (data_ != nullptr) data_->Seek(target);
    SkipEmptyBlocksForward();
  }
  void SeekToFirst() override {
    index_->SeekToFirst();
    InitDataBlock();
    if (data_ != nullptr) data_->SeekToFirst();
    SkipEmptyBlocksForward();
  }
  void SeekToLast() override {
    index_->SeekToLast();
    InitDataBlock();
    if (data_ != nullptr) data_->SeekToLast();
    SkipEmptyBlocksBackward();
  }
  void Next() override {
    assert(Valid());
    data_->Next();
    SkipEmptyBlocksForward();
  }
  void Prev() override {
    assert(Valid());
    data_->Prev();
    SkipEmptyBlocksBackward();
  }

 private:
  // True (and iteration stops) if the index or the current block failed.
  bool CheckError() {
    if (status_.ok() && !index_->status().ok()) status_ = index_->status();
    if (status_.ok() && data_ != nullptr && !data_->status().ok()) status_ = data_->status();
    if (status_.ok()) return false;
    data_.reset();
    data_value_.clear();
    return true;
  }

  void SkipEmptyBlocksForward() {
    while (!CheckError() && (data_ == nullptr || !data_->Valid())) {
      if (!index_->Valid()) {
        data_.reset();
        return;
      }
      index_->Next();
      InitDataBlock();
      if (data_ != nullptr) data_->SeekToFirst();
    }
  }

  void SkipEmptyBlocksBackward() {
    while (!CheckError() && (data_ == nullptr || !data_->Valid())) {
      if (!index_->Valid()) {
        data_.reset();
        return;
      }
      index_->Prev();
      InitDataBlock();
      if (data_ != nullptr) data_->SeekToLast();
    }
  }

  // Opens the block the index points at, reusing the open one if it is the same.
  void InitDataBlock() {
    if (!index_->Valid()) {
      data_.reset();
      data_value_.clear();
      return;
    }
    std::string_view v = index_->value();
    if (data_ != nullptr && v == data_value_) return;
    data_.reset(block_function_(v));
    data_value_.assign(v);
  }

  const std::unique_ptr<InternalIterator> index_;
  const std::function<InternalIterator*(std::string_view)> block_function_;
  std::unique_ptr<InternalIterator> data_;  // nullptr: no block open
  std::string data_value_;                  // index value data_ was opened from
  Status status_;                           // first error seen; sticky
};

}  // namespace

InternalIterator* NewTwoLevelIterator(
    InternalIterator* index_iter,
    std::function<InternalIterator*(std::string_view index_value)> block_function) {
  return new TwoLevelIterator(index_iter, std::move(block_function));
}

}  // namespace lightning
