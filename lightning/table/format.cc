#include "lightning/table/format.h"

#include <lz4.h>

#include <cassert>

#include "lightning/util/coding.h"
#include "lightning/util/crc32c.h"

namespace lightning {
namespace {

// Bytes of the footer covered by its checksum: four handles' fixed64s and the version.
constexpr size_t kFooterChecksummedBytes = 36;
// lz4 expands by at most 255x (a run's length byte per 255 output bytes); a
// larger claimed size is corrupt and must not drive an allocation.
constexpr uint64_t kMaxLz4Expansion = 255;

Status BlockCorruption(std::string_view file_name, uint64_t offset, std::string_view what) {
  return Status::Corruption(std::string(file_name) + ": block at offset " + std::to_string(offset) +
                            ": " + std::string(what));
}

uint32_t BlockChecksum(std::string_view contents, char type) {
  uint32_t crc = crc32c::Value(contents);
  return crc32c::Mask(crc32c::Extend(crc, &type, 1));
}

// Appends the lz4 form of raw (its size, then the compressed bytes) to *dst;
// false, with *dst as it was, if that does not save at least 1/8.
bool AppendLz4(std::string_view raw, std::string* dst) {
  const size_t start = dst->size();
  PutVarint32(dst, static_cast<uint32_t>(raw.size()));
  const size_t header = dst->size();
  const int bound = LZ4_compressBound(static_cast<int>(raw.size()));
  dst->resize(header + bound);
  const int n =
      LZ4_compress_default(raw.data(), dst->data() + header, static_cast<int>(raw.size()), bound);
  if (n > 0 && header - start + n <= raw.size() - raw.size() / 8) {
    dst->resize(header + n);
    return true;
  }
  dst->resize(start);
  return false;
}

Status DecompressLz4(std::string_view stored, std::string_view file_name, uint64_t offset,
                     std::string* contents) {
  uint32_t size;
  if (!GetVarint32(&stored, &size)) return BlockCorruption(file_name, offset, "bad lz4 header");
  if (size > kMaxBlockBytes || size > stored.size() * kMaxLz4Expansion) {
    return BlockCorruption(file_name, offset, "implausible uncompressed size");
  }
  contents->resize(size);
  const int n = LZ4_decompress_safe(stored.data(), contents->data(),
                                    static_cast<int>(stored.size()), static_cast<int>(size));
  if (n < 0 || static_cast<uint32_t>(n) != size) {
    contents->clear();
    return BlockCorruption(file_name, offset, "bad lz4 data");
  }
  return Status::OK();
}

}  // namespace

void BlockHandle::EncodeTo(std::string* dst) const {
  PutVarint64(dst, offset);
  PutVarint64(dst, size);
}

bool BlockHandle::DecodeFrom(std::string_view* input) {
  return GetVarint64(input, &offset) && GetVarint64(input, &size) && size <= kMaxBlockBytes;
}

void Footer::EncodeTo(std::string* dst) const {
  const size_t start = dst->size();
  PutFixed64(dst, filter.offset);
  PutFixed64(dst, filter.size);
  PutFixed64(dst, index.offset);
  PutFixed64(dst, index.size);
  PutFixed32(dst, format_version);
  PutFixed32(dst, crc32c::Mask(crc32c::Value(dst->data() + start, kFooterChecksummedBytes)));
  PutFixed64(dst, kTableMagic);
  assert(dst->size() - start == kFooterBytes);
}

Status Footer::DecodeFrom(std::string_view input, std::string_view file_name, uint64_t offset) {
  auto corruption = [&](std::string_view what) {
    return Status::Corruption(std::string(file_name) + ": footer at offset " +
                              std::to_string(offset) + ": " + std::string(what));
  };
  if (input.size() != kFooterBytes) return corruption("truncated");
  const char* p = input.data();
  if (DecodeFixed64(p + 40) != kTableMagic) return corruption("bad magic (not a table file)");
  const uint32_t expected = crc32c::Unmask(DecodeFixed32(p + kFooterChecksummedBytes));
  if (crc32c::Value(p, kFooterChecksummedBytes) != expected) return corruption("checksum mismatch");
  filter = {DecodeFixed64(p), DecodeFixed64(p + 8)};
  index = {DecodeFixed64(p + 16), DecodeFixed64(p + 24)};
  format_version = DecodeFixed32(p + 32);
  if (format_version != kTableFormatVersion) {
    // Version 1 (before the blocked bloom filter) was never released.
    return corruption("unknown format version " + std::to_string(format_version) +
                      " (this build reads " + std::to_string(kTableFormatVersion) + ")");
  }
  if (filter.size > kMaxBlockBytes || index.size > kMaxBlockBytes) {
    return corruption("block size out of range");
  }
  return Status::OK();
}

uint64_t AppendBlock(std::string_view raw, Compression compression, std::string* dst) {
  assert(raw.size() <= kMaxBlockBytes);
  const size_t start = dst->size();
  char type = kBlockTypeNone;
  if (compression == Compression::kLz4 && AppendLz4(raw, dst)) {
    type = kBlockTypeLz4;
  } else {
    dst->append(raw);
  }
  const uint64_t stored_bytes = dst->size() - start;
  const uint32_t crc = BlockChecksum(std::string_view(*dst).substr(start), type);
  dst->push_back(type);
  PutFixed32(dst, crc);
  return stored_bytes;
}

Status ReadBlock(const RandomAccessFile& file, const std::string& file_name,
                 const BlockHandle& handle, bool verify_checksum, std::string* contents) {
  contents->clear();
  if (handle.size > kMaxBlockBytes) return BlockCorruption(file_name, handle.offset, "too large");
  const size_t n = handle.size + kBlockTrailerBytes;
  // A mapped file reads in place: no scratch to allocate and zero.
  std::string scratch(file.Mapped().empty() ? n : 0, '\0');
  std::string_view data;
  Status s = file.Read(handle.offset, n, scratch.data(), &data);
  if (!s.ok()) return s;
  if (data.size() != n) return BlockCorruption(file_name, handle.offset, "truncated");

  std::string_view stored = data.substr(0, handle.size);
  const char type = data[handle.size];
  if (verify_checksum) {
    const uint32_t expected = DecodeFixed32(data.data() + handle.size + 1);
    if (BlockChecksum(stored, type) != expected) {
      return BlockCorruption(file_name, handle.offset, "checksum mismatch");
    }
  }
  switch (type) {
    case kBlockTypeNone:
      if (data.data() == scratch.data()) {
        scratch.resize(handle.size);
        *contents = std::move(scratch);
      } else {
        contents->assign(stored);
      }
      return Status::OK();
    case kBlockTypeLz4:
      return DecompressLz4(stored, file_name, handle.offset, contents);
    default:
      return BlockCorruption(file_name, handle.offset, "unknown block type");
  }
}

Status BlockInPlace(std::string_view file_bytes, std::string_view file_name,
                    const BlockHandle& handle, bool verify_checksum, std::string_view* contents) {
  assert(handle.offset <= file_bytes.size() &&
         handle.size + kBlockTrailerBytes <= file_bytes.size() - handle.offset);
  *contents = {};
  const std::string_view stored = file_bytes.substr(handle.offset, handle.size);
  const char type = file_bytes[handle.offset + handle.size];
  if (verify_checksum) {
    const uint32_t expected = DecodeFixed32(stored.data() + stored.size() + 1);
    if (BlockChecksum(stored, type) != expected) {
      return BlockCorruption(file_name, handle.offset, "checksum mismatch");
    }
  }
  if (type == kBlockTypeNone) *contents = stored;
  return Status::OK();
}

}  // namespace lightning
