#include "lightning/util/comparator.h"

#include "lightning/util/internal_iterator.h"

namespace lightning {
namespace {

class Bytewise final : public Comparator {
 public:
  int Compare(std::string_view a, std::string_view b) const override { return a.compare(b); }
};

class ErrorIterator final : public InternalIterator {
 public:
  explicit ErrorIterator(const Status& s) : status_(s) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void SeekToLast() override {}
  void Seek(std::string_view) override {}
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace

const Comparator* BytewiseComparator() {
  static const Bytewise kBytewise;
  return &kBytewise;
}

InternalIterator* NewErrorIterator(const Status& status) { return new ErrorIterator(status); }

}  // namespace lightning
