// WriteBatchInternal: the engine's access to a WriteBatch's representation
// (the format in lightning/write_batch.h), hidden from the public API.
//
// Thread safety: as WriteBatch; mutators need exclusive access to the batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lightning/lsm/dbformat.h"
#include "lightning/status.h"
#include "lightning/write_batch.h"

namespace lightning {

class WriteBatchInternal {
 public:
  // sequence:fixed64 count:fixed32
  static constexpr size_t kHeaderBytes = 12;

  static uint32_t Count(const WriteBatch* batch);
  static void SetCount(WriteBatch* batch, uint32_t n);

  // The sequence number of the batch's first operation; the i-th gets
  // Sequence() + i.
  static SequenceNumber Sequence(const WriteBatch* batch);
  static void SetSequence(WriteBatch* batch, SequenceNumber seq);

  // The encoded batch: the payload of its write-ahead log record.
  static std::string_view Contents(const WriteBatch* batch) { return batch->rep_; }
  static size_t ByteSize(const WriteBatch* batch) { return batch->rep_.size(); }
  // Room for `bytes` more, so that a one-record batch is allocated once.
  static void Reserve(WriteBatch* batch, size_t bytes) {
    batch->rep_.reserve(batch->rep_.size() + bytes);
  }
  // Replaces the batch with decoded log bytes. Corruption if shorter than the
  // header; the records are validated by Iterate.
  static Status SetContents(WriteBatch* batch, std::string_view contents);

  // Appends src's operations to dst's (for group commit).
  static void Append(WriteBatch* dst, const WriteBatch* src);

  // InvalidArgument if a key is over kMaxKeyBytes, a value over kMaxValueBytes
  // or the whole batch over kMaxBatchBytes (lightning/db.h); Corruption if it
  // is malformed. Put and Delete do not check, so the DB calls this once per
  // batch before writing it.
  // *max_value_bytes (if not null): the batch's largest value.
  static Status CheckLimits(const WriteBatch* batch, size_t* max_value_bytes = nullptr);

  // The B+Tree engine writes a large value into its page file before the log
  // record that names it, so that it is written once (btree_db.h). In its
  // log records such a Put is a value reference instead:
  //   record |= kTypeValueRef varstring(key) bytes:varint32 run:fixed64
  //             txn:fixed64 crc:fixed32
  // the value's length, the first page of its overflow run, the transaction
  // id in the run's page headers, and the CRC32C of the run's page checksums
  // (Pager::WriteValueRun). No other
  // reader accepts the tag (WriteBatch::Iterate says Corruption).
  static constexpr unsigned char kTypeValueRef = 0x10;
  struct ValueRef {
    uint32_t bytes = 0;
    uint64_t run = 0;
    uint64_t txn = 0;
    uint32_t crc = 0;
  };
  class RefHandler : public WriteBatch::Handler {
   public:
    virtual void PutRef(std::string_view key, const ValueRef& ref) = 0;
  };
  static void PutRef(WriteBatch* batch, std::string_view key, const ValueRef& ref);
  // Iterate, with value references passed to handler->PutRef.
  static Status IterateWithRefs(const WriteBatch* batch, RefHandler* handler);
};

}  // namespace lightning
