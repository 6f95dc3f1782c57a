// Iterator: an ordered cursor over a consistent point-in-time view.
//
// Keys are ordered bytewise (memcmp, then the shorter key first). An iterator
// sees the snapshot taken when it was created, whatever other threads write
// meanwhile. key() and value() stay valid until the iterator moves.
//
// Thread safety: an Iterator must not be used from two threads at once.
// REQUIRES: the DB that created an iterator outlives it.
#pragma once

#include <string_view>

#include "lightning/status.h"

namespace lightning {

class Iterator {
 public:
  Iterator() = default;
  Iterator(const Iterator&) = delete;
  Iterator& operator=(const Iterator&) = delete;
  virtual ~Iterator();

  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual void Seek(std::string_view target) = 0;  // first key >= target
  virtual void Next() = 0;                         // REQUIRES: Valid()
  virtual void Prev() = 0;                         // REQUIRES: Valid()
  virtual std::string_view key() const = 0;        // REQUIRES: Valid()
  virtual std::string_view value() const = 0;      // REQUIRES: Valid()
  // Not OK when a read failed (Corruption, IOError); the iterator is then not Valid().
  virtual Status status() const = 0;
};

}  // namespace lightning
