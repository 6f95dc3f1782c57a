#include "lightning/wal/log_writer.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "lightning/util/coding.h"
#include "lightning/util/crc32c.h"
#include "lightning/wal/log_format.h"

namespace lightning::log {
namespace {

// Appends one fragment whose data is bytes [pos, pos + n) of the logical
// record `head` + `tail`, without first copying the record into one string.
void AppendFragment(std::string* out, RecordType type, std::string_view head, std::string_view tail,
                    size_t pos, size_t n) {
  size_t header = out->size();
  out->append(kHeaderBytes - 1, '\0');
  out->push_back(static_cast<char>(type));
  if (pos < head.size()) {
    size_t from_head = std::min(n, head.size() - pos);
    out->append(head.substr(pos, from_head));
    pos += from_head;
    n -= from_head;
  }
  // A fragment may end inside the head (a block with only a byte or two left).
  if (n > 0) out->append(tail.substr(pos - head.size(), n));
  // The type byte and the data are contiguous, so one CRC covers both.
  char* h = out->data() + header;
  size_t length = out->size() - header - kHeaderBytes;
  EncodeFixed32(h, crc32c::Mask(crc32c::Value(h + kHeaderBytes - 1, length + 1)));
  h[4] = static_cast<char>(length & 0xff);
  h[5] = static_cast<char>(length >> 8);
}

RecordType FragmentType(bool first, bool last) {
  if (first) return last ? kFullType : kFirstType;
  return last ? kLastType : kMiddleType;
}

}  // namespace

Status Writer::AddRecord(std::string_view payload) {
  assert(payload.size() <= kMaxPayloadBytes);
  char prefix[kMaxVarint64Bytes];
  std::string_view head(prefix, EncodeVarint64(prefix, synced_offset_) - prefix);
  const size_t total = head.size() + payload.size();

  // Unbuffered, the record is built on its own and appended at once.
  record_.clear();
  std::string& out = buffer_bytes_ > 0 ? buffer_ : record_;
  const size_t start = out.size();
  out.reserve(start + total + (total / (kBlockBytes - kHeaderBytes) + 2) * kHeaderBytes);
  size_t block_offset = size_ % kBlockBytes;
  size_t pos = 0;
  bool first = true;  // not pos == 0: a block's last 7 bytes hold an empty first fragment
  do {
    size_t left_in_block = kBlockBytes - block_offset;
    if (left_in_block < kHeaderBytes) {
      out.append(left_in_block, '\0');
      block_offset = 0;
      left_in_block = kBlockBytes;
    }
    size_t n = std::min(total - pos, left_in_block - kHeaderBytes);
    AppendFragment(&out, FragmentType(first, pos + n == total), head, payload, pos, n);
    first = false;
    pos += n;
    block_offset += kHeaderBytes + n;
  } while (pos < total);

  size_ += out.size() - start;
  if (buffer_bytes_ > 0) return buffer_.size() >= buffer_bytes_ ? Flush() : Status::OK();
  Status s = dest_->Append(out);
  if (record_.capacity() > kBlockBytes * 32) std::string().swap(record_);  // after a huge record
  if (s.ok() && reserve_bytes_ > 0) dest_->ReserveAhead(reserve_bytes_);
  return s;
}

Status Writer::Flush() {
  if (buffer_.empty()) return Status::OK();
  Status s = dest_->Append(buffer_);
  buffer_.clear();
  if (s.ok() && reserve_bytes_ > 0) dest_->ReserveAhead(reserve_bytes_);
  return s;
}

Status Writer::Sync() {
  Status s = Flush();
  if (!s.ok()) return s;
  s = dest_->Sync();
  if (s.ok()) synced_offset_ = size_;
  return s;
}

}  // namespace lightning::log
