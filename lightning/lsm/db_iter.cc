#include "lightning/lsm/db_iter.h"

#include <cassert>

namespace lightning {
namespace {

class DBIter final : public Iterator {
 public:
  DBIter(InternalIterator* iter, SequenceNumber sequence, std::shared_ptr<const void> keepalive)
      : keepalive_(std::move(keepalive)), iter_(iter), sequence_(sequence) {}

  bool Valid() const override { return valid_; }
  std::string_view key() const override {
    assert(valid_);
    return direction_ == kForward ? ExtractUserKey(iter_->key()) : std::string_view(saved_key_);
  }
  std::string_view value() const override {
    assert(valid_);
    return direction_ == kForward ? iter_->value() : std::string_view(saved_value_);
  }
  Status status() const override { return status_.ok() ? iter_->status() : status_; }

  void SeekToFirst() override {
    direction_ = kForward;
    saved_value_.clear();
    iter_->SeekToFirst();
    FindNextUserEntry(false);
  }

  void SeekToLast() override {
    direction_ = kReverse;
    saved_value_.clear();
    iter_->SeekToLast();
    FindPrevUserEntry();
  }

  void Seek(std::string_view target) override {
    direction_ = kForward;
    saved_value_.clear();
    saved_key_.clear();
    AppendInternalKey(&saved_key_, target, sequence_, kValueTypeForSeek);
    iter_->Seek(saved_key_);
    FindNextUserEntry(false);
  }

  void Next() override {
    assert(valid_);
    if (direction_ == kReverse) {
      // iter_ is just before the entries of key(): step into them, then skip
      // them like any shadowed entries (saved_key_ holds key()).
      direction_ = kForward;
      if (iter_->Valid()) {
        iter_->Next();
      } else {
        iter_->SeekToFirst();
      }
    } else {
      saved_key_.assign(ExtractUserKey(iter_->key()));
      iter_->Next();
    }
    FindNextUserEntry(true);
  }

  void Prev() override {
    assert(valid_);
    if (direction_ == kForward) {
      // Step back over every entry of key() so the reverse scan starts at the
      // newest entry of the previous user key.
      saved_key_.assign(ExtractUserKey(iter_->key()));
      do {
        iter_->Prev();
      } while (iter_->Valid() && ExtractUserKey(iter_->key()) >= saved_key_);
      direction_ = kReverse;
    }
    FindPrevUserEntry();
  }

 private:
  enum Direction { kForward, kReverse };

  bool Parse(ParsedInternalKey* ikey) {
    if (ParseInternalKey(iter_->key(), ikey)) return true;
    status_ = Status::Corruption("malformed internal key in a table or memtable");
    return false;
  }

  // Moves forward to the first visible, non-deleted entry; with `skipping`,
  // entries of user keys <= saved_key_ are shadowed and skipped.
  void FindNextUserEntry(bool skipping) {
    valid_ = false;
    for (; iter_->Valid(); iter_->Next()) {
      ParsedInternalKey ikey;
      if (!Parse(&ikey)) return;
      if (ikey.sequence > sequence_) continue;
      if (ikey.type == kTypeDeletion) {
        saved_key_.assign(ikey.user_key);  // hide every older version too
        skipping = true;
      } else if (!skipping || ikey.user_key > saved_key_) {
        valid_ = true;
        saved_key_.clear();
        return;
      }
    }
    saved_key_.clear();
  }

  // Moves backward; leaves the newest visible version of the previous user key
  // in saved_key_/saved_value_ and iter_ just before that key's entries.
  void FindPrevUserEntry() {
    ValueType value_type = kTypeDeletion;
    for (; iter_->Valid(); iter_->Prev()) {
      ParsedInternalKey ikey;
      if (!Parse(&ikey)) {
        valid_ = false;
        return;
      }
      if (ikey.sequence > sequence_) continue;
      if (value_type != kTypeDeletion && ikey.user_key < saved_key_) break;  // an older key
      value_type = ikey.type;
      if (value_type == kTypeDeletion) {
        saved_key_.clear();
        saved_value_.clear();
      } else {
        saved_key_.assign(ikey.user_key);
        saved_value_.assign(iter_->value());
      }
    }
    valid_ = value_type != kTypeDeletion && status().ok();
    if (!valid_) {
      saved_key_.clear();
      saved_value_.clear();
      direction_ = kForward;
    }
  }

  std::shared_ptr<const void> keepalive_;
  std::unique_ptr<InternalIterator> iter_;
  const SequenceNumber sequence_;
  Status status_;
  Direction direction_ = kForward;
  bool valid_ = false;
  std::string saved_key_;    // see FindNextUserEntry / FindPrevUserEntry
  std::string saved_value_;  // the value of key() while moving in reverse
};

}  // namespace

std::unique_ptr<Iterator> NewDBIterator(InternalIterator* internal, SequenceNumber sequence,
                                        std::shared_ptr<const void> keepalive) {
  return std::make_unique<DBIter>(internal, sequence, std::move(keepalive));
}

}  // namespace lightning
