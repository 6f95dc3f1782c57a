#include "lightning/lsm/merging_iterator.h"

#include <cassert>
#include <memory>

namespace lightning {
namespace {

class MergingIterator final : public InternalIterator {
 public:
  MergingIterator(const Comparator* cmp, std::vector<InternalIterator*> children) : cmp_(cmp) {
    for (InternalIterator* c : children) children_.emplace_back(c);
  }

  bool Valid() const override { return current_ != nullptr; }

  void SeekToFirst() override {
    for (auto& c : children_) c->SeekToFirst();
    direction_ = kForward;
    FindSmallest();
  }

  void SeekToLast() override {
    for (auto& c : children_) c->SeekToLast();
    direction_ = kReverse;
    FindLargest();
  }

  void Seek(std::string_view target) override {
    for (auto& c : children_) c->Seek(target);
    direction_ = kForward;
    FindSmallest();
  }

  void Next() override {
    assert(Valid());
    if (direction_ != kForward) {
      // Every other child must be moved to the first entry after key().
      std::string k(key());
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid() && cmp_->Compare(k, c->key()) == 0) c->Next();
      }
      direction_ = kForward;
    }
    current_->Next();
    FindSmallest();
  }

  void Prev() override {
    assert(Valid());
    if (direction_ != kReverse) {
      // Every other child must be moved to the last entry before key().
      std::string k(key());
      for (auto& c : children_) {
        if (c.get() == current_) continue;
        c->Seek(k);
        if (c->Valid()) {
          c->Prev();
        } else if (c->status().ok()) {
          c->SeekToLast();  // every entry of c is before k
        }
      }
      direction_ = kReverse;
    }
    current_->Prev();
    FindLargest();
  }

  std::string_view key() const override { return current_->key(); }
  std::string_view value() const override { return current_->value(); }

  Status status() const override {
    for (const auto& c : children_) {
      Status s = c->status();
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

 private:
  enum Direction { kForward, kReverse };

  // An error in any child ends the iteration: skipping a child that failed
  // would silently hide its keys (or resurrect keys it deletes).
  bool AnyError() const { return !status().ok(); }

  void FindSmallest() {
    current_ = nullptr;
    if (AnyError()) return;
    for (auto& c : children_) {
      if (c->Valid() && (current_ == nullptr || cmp_->Compare(c->key(), current_->key()) < 0)) {
        current_ = c.get();
      }
    }
  }

  void FindLargest() {
    current_ = nullptr;
    if (AnyError()) return;
    for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
      auto& c = *it;
      if (c->Valid() && (current_ == nullptr || cmp_->Compare(c->key(), current_->key()) > 0)) {
        current_ = c.get();
      }
    }
  }

  const Comparator* const cmp_;
  std::vector<std::unique_ptr<InternalIterator>> children_;
  InternalIterator* current_ = nullptr;
  Direction direction_ = kForward;
};

}  // namespace

InternalIterator* NewMergingIterator(const Comparator* cmp,
                                     std::vector<InternalIterator*> children) {
  return new MergingIterator(cmp, std::move(children));
}

}  // namespace lightning
