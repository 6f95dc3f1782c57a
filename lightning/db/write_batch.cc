#include "lightning/write_batch.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "lightning/db.h"
#include "lightning/db/write_batch_internal.h"
#include "lightning/lsm/dbformat.h"
#include "lightning/util/coding.h"

namespace lightning {
namespace {

constexpr size_t kCountOffset = 8;

Status BatchCorruption(std::string_view what, size_t offset) {
  return Status::Corruption("write batch: " + std::string(what) + " at byte " +
                            std::to_string(offset));
}

// Decodes every record of `rep`, calling handler (when not null) for each.
// Checks every byte, so a handler never sees an operation of a malformed batch
// when the caller validates first with a null handler. Value references are
// accepted only with `refs`, and go to refs_handler (when not null).
Status ParseRecords(std::string_view rep, WriteBatch::Handler* handler, bool refs = false,
                    WriteBatchInternal::RefHandler* refs_handler = nullptr) {
  if (rep.size() < WriteBatchInternal::kHeaderBytes) {
    return BatchCorruption("shorter than its header", rep.size());
  }
  std::string_view input = rep.substr(WriteBatchInternal::kHeaderBytes);
  uint32_t found = 0;
  while (!input.empty()) {
    size_t offset = rep.size() - input.size();
    unsigned char type = static_cast<unsigned char>(input[0]);
    input.remove_prefix(1);
    std::string_view key, value;
    if (type == kTypeValue) {
      if (!GetLengthPrefixed(&input, &key) || !GetLengthPrefixed(&input, &value)) {
        return BatchCorruption("truncated Put", offset);
      }
      if (handler != nullptr) handler->Put(key, value);
    } else if (type == kTypeDeletion) {
      if (!GetLengthPrefixed(&input, &key)) return BatchCorruption("truncated Delete", offset);
      if (handler != nullptr) handler->Delete(key);
    } else if (type == WriteBatchInternal::kTypeValueRef && refs) {
      WriteBatchInternal::ValueRef ref;
      if (!GetLengthPrefixed(&input, &key) || !GetVarint32(&input, &ref.bytes) ||
          input.size() < 20) {
        return BatchCorruption("truncated value reference", offset);
      }
      ref.run = DecodeFixed64(input.data());
      ref.txn = DecodeFixed64(input.data() + 8);
      ref.crc = DecodeFixed32(input.data() + 16);
      input.remove_prefix(20);
      if (refs_handler != nullptr) refs_handler->PutRef(key, ref);
    } else {
      return BatchCorruption("unknown record type " + std::to_string(type), offset);
    }
    found++;
  }
  if (found != DecodeFixed32(rep.data() + kCountOffset)) {
    return BatchCorruption("count " + std::to_string(DecodeFixed32(rep.data() + kCountOffset)) +
                               " but " + std::to_string(found) + " records",
                           kCountOffset);
  }
  return Status::OK();
}

}  // namespace

WriteBatch::WriteBatch() { Clear(); }

void WriteBatch::Clear() { rep_.assign(WriteBatchInternal::kHeaderBytes, '\0'); }

size_t WriteBatch::Count() const { return WriteBatchInternal::Count(this); }

void WriteBatch::Put(std::string_view key, std::string_view value) {
  WriteBatchInternal::SetCount(this, WriteBatchInternal::Count(this) + 1);
  rep_.push_back(static_cast<char>(kTypeValue));
  PutLengthPrefixed(&rep_, key);
  PutLengthPrefixed(&rep_, value);
}

void WriteBatch::Delete(std::string_view key) {
  WriteBatchInternal::SetCount(this, WriteBatchInternal::Count(this) + 1);
  rep_.push_back(static_cast<char>(kTypeDeletion));
  PutLengthPrefixed(&rep_, key);
}

Status WriteBatch::Iterate(Handler* handler) const {
  assert(handler != nullptr);
  Status s = ParseRecords(rep_, nullptr);  // all or nothing: validate first
  if (!s.ok()) return s;
  return ParseRecords(rep_, handler);
}

void WriteBatchInternal::PutRef(WriteBatch* batch, std::string_view key, const ValueRef& ref) {
  SetCount(batch, Count(batch) + 1);
  batch->rep_.push_back(static_cast<char>(kTypeValueRef));
  PutLengthPrefixed(&batch->rep_, key);
  PutVarint32(&batch->rep_, ref.bytes);
  PutFixed64(&batch->rep_, ref.run);
  PutFixed64(&batch->rep_, ref.txn);
  PutFixed32(&batch->rep_, ref.crc);
}

Status WriteBatchInternal::IterateWithRefs(const WriteBatch* batch, RefHandler* handler) {
  assert(handler != nullptr);
  Status s = ParseRecords(batch->rep_, nullptr, /*refs=*/true);
  if (!s.ok()) return s;
  return ParseRecords(batch->rep_, handler, /*refs=*/true, handler);
}

uint32_t WriteBatchInternal::Count(const WriteBatch* batch) {
  return DecodeFixed32(batch->rep_.data() + kCountOffset);
}

void WriteBatchInternal::SetCount(WriteBatch* batch, uint32_t n) {
  EncodeFixed32(batch->rep_.data() + kCountOffset, n);
}

SequenceNumber WriteBatchInternal::Sequence(const WriteBatch* batch) {
  return DecodeFixed64(batch->rep_.data());
}

void WriteBatchInternal::SetSequence(WriteBatch* batch, SequenceNumber seq) {
  EncodeFixed64(batch->rep_.data(), seq);
}

Status WriteBatchInternal::SetContents(WriteBatch* batch, std::string_view contents) {
  if (contents.size() < kHeaderBytes) return BatchCorruption("shorter than its header", 0);
  batch->rep_.assign(contents);
  return Status::OK();
}

void WriteBatchInternal::Append(WriteBatch* dst, const WriteBatch* src) {
  assert(src->rep_.size() >= kHeaderBytes);
  SetCount(dst, Count(dst) + Count(src));
  dst->rep_.append(src->rep_, kHeaderBytes);
}

namespace {

class SizeTracker : public WriteBatch::Handler {
 public:
  void Put(std::string_view key, std::string_view value) override {
    max_key_bytes = std::max(max_key_bytes, key.size());
    max_value_bytes = std::max(max_value_bytes, value.size());
  }
  void Delete(std::string_view key) override {
    max_key_bytes = std::max(max_key_bytes, key.size());
  }
  size_t max_key_bytes = 0;
  size_t max_value_bytes = 0;
};

}  // namespace

Status WriteBatchInternal::CheckLimits(const WriteBatch* batch, size_t* max_value_bytes) {
  // First, because a string over 4 GiB (whose varint32 length wrapped) can
  // only be in a batch over the limit.
  if (ByteSize(batch) > kMaxBatchBytes) {
    return Status::InvalidArgument("write batch of " + std::to_string(ByteSize(batch)) +
                                   " bytes is over the limit of " + std::to_string(kMaxBatchBytes));
  }
  SizeTracker sizes;
  Status s = ParseRecords(batch->rep_, &sizes);
  if (!s.ok()) return s;
  if (max_value_bytes != nullptr) *max_value_bytes = sizes.max_value_bytes;
  if (sizes.max_key_bytes > kMaxKeyBytes) {
    return Status::InvalidArgument("key of " + std::to_string(sizes.max_key_bytes) +
                                   " bytes is over the limit of " + std::to_string(kMaxKeyBytes));
  }
  if (sizes.max_value_bytes > kMaxValueBytes) {
    return Status::InvalidArgument("value of " + std::to_string(sizes.max_value_bytes) +
                                   " bytes is over the limit of " + std::to_string(kMaxValueBytes));
  }
  return Status::OK();
}

}  // namespace lightning
