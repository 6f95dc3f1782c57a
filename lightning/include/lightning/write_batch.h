// WriteBatch: a group of Puts and Deletes applied atomically, in order.
//
// All of a batch or none of it is applied, also across a crash. Within a batch
// a later operation on the same key wins. A batch is a plain value: it is not
// thread-safe for concurrent modification, but const access is.
//
// Representation (also the payload of a write-ahead log record):
//   batch  := sequence:fixed64 count:fixed32 record*
//   record := kTypeValue varstring(key) varstring(value)
//           | kTypeDeletion varstring(key)
//   varstring := length:varint32 bytes
// The sequence number is assigned by the database when the batch is written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/status.h"

namespace lightning {

class WriteBatch {
 public:
  WriteBatch();

  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  void Clear();
  size_t Count() const;

  // Bytes of the encoded batch, a measure of its size in memory and in the log.
  size_t ApproximateSize() const { return rep_.size(); }

  // Calls `handler` for each operation in order. Corruption if the batch is
  // malformed (only possible for a batch decoded from untrusted bytes).
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void Put(std::string_view key, std::string_view value) = 0;
    virtual void Delete(std::string_view key) = 0;
  };
  Status Iterate(Handler* handler) const;

 private:
  friend class WriteBatchInternal;
  std::string rep_;
};

}  // namespace lightning
