// InternalIterator: the cursor every layer below the public API implements
// (memtable, block, table, level, merge).
//
// Keys are whatever the layer stores (internal keys in the LSM). Unlike the
// public Iterator, an internal iterator exposes every version of a key; the
// DB iterator on top hides shadowed versions and tombstones.
// key() and value() stay valid until the iterator moves.
#pragma once

#include <string_view>

#include "lightning/status.h"

namespace lightning {

class InternalIterator {
 public:
  InternalIterator() = default;
  InternalIterator(const InternalIterator&) = delete;
  InternalIterator& operator=(const InternalIterator&) = delete;
  virtual ~InternalIterator() = default;

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual void Seek(std::string_view target) = 0;  // first entry >= target
  virtual void Next() = 0;                         // REQUIRES: Valid()
  virtual void Prev() = 0;                         // REQUIRES: Valid()
  virtual std::string_view key() const = 0;        // REQUIRES: Valid()
  virtual std::string_view value() const = 0;      // REQUIRES: Valid()
  virtual Status status() const = 0;
};

// An iterator over nothing that reports `status` (OK by default).
InternalIterator* NewErrorIterator(const Status& status);

}  // namespace lightning
