// The table file's framing: block handles, the per-block trailer, and the
// fixed-size footer that locates everything else. docs/table_format.md has the
// whole file format; in brief:
//
//   table        := data_block* filter_block? index_block footer
//   block        := contents type:uint8 crc:fixed32
//                     (crc = masked crc32c of contents and type)
//   contents     := raw                                        (type 0, none)
//                 | uncompressed_size:varint32 lz4_bytes        (type 1, lz4)
//   block_handle := offset:varint64 size:varint64   (size excludes the trailer)
//   footer       := filter_offset:fixed64 filter_size:fixed64
//                   index_offset:fixed64 index_size:fixed64
//                   format_version:fixed32 crc:fixed32 magic:fixed64   (48 bytes)
//                     (crc = masked crc32c of the preceding 36 bytes;
//                      filter_size 0 means the table has no filter)
//
// Decoders treat bytes as untrusted: any malformed or out-of-range value is a
// Corruption naming the file and offset. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/options.h"
#include "lightning/status.h"

namespace lightning {

inline constexpr uint64_t kTableMagic = 0x4c49474854544231ull;  // "LIGHTTB1"
inline constexpr uint32_t kTableFormatVersion = 2;
inline constexpr size_t kFooterBytes = 48;
inline constexpr size_t kBlockTrailerBytes = 5;
// No block, stored or uncompressed, may be larger; bounds every allocation a
// reader makes from a size it read from disk.
inline constexpr uint64_t kMaxBlockBytes = 1ull << 30;

enum BlockType : unsigned char { kBlockTypeNone = 0, kBlockTypeLz4 = 1 };

struct BlockHandle {
  static constexpr size_t kMaxEncodedBytes = 20;  // two varint64s

  uint64_t offset = 0;
  uint64_t size = 0;  // of the stored contents, excluding the trailer

  void EncodeTo(std::string* dst) const;
  // Consumes a handle from the front of *input; false if truncated or
  // malformed, or if size exceeds kMaxBlockBytes.
  bool DecodeFrom(std::string_view* input);
};

struct Footer {
  BlockHandle filter;  // size 0: no filter
  BlockHandle index;
  uint32_t format_version = kTableFormatVersion;

  void EncodeTo(std::string* dst) const;  // appends exactly kFooterBytes
  // `input` is the file's last kFooterBytes, read at `offset` of `file_name`.
  // Corruption for a foreign file (bad magic), a checksum mismatch or an
  // unknown format version.
  Status DecodeFrom(std::string_view input, std::string_view file_name, uint64_t offset);
};

// Appends raw's stored form (lz4-compressed when that saves at least 1/8 and
// `compression` asks for it) and its trailer to *dst. Returns the size of the
// stored contents, the size a BlockHandle records.
// REQUIRES: raw.size() <= kMaxBlockBytes.
uint64_t AppendBlock(std::string_view raw, Compression compression, std::string* dst);

// Reads the block at `handle` and returns its uncompressed contents. Corruption
// (naming file and offset) for a short read, a checksum mismatch when
// verify_checksum, an unknown type, or lz4 data that does not decode to
// exactly the recorded size. Callers must check the handle against the file's
// layout first; this also fails cleanly when it points past the end.
Status ReadBlock(const RandomAccessFile& file, const std::string& file_name,
                 const BlockHandle& handle, bool verify_checksum, std::string* contents);

// For a memory-mapped file (`file_bytes`, all of it): the contents of the
// block at `handle` in place, without a copy, when it is stored uncompressed;
// empty (and OK) when it is compressed, which ReadBlock must decode. Checks
// the checksum when verify_checksum (Corruption naming file and offset).
// REQUIRES: the handle lies within file_bytes, trailer included.
Status BlockInPlace(std::string_view file_bytes, std::string_view file_name,
                    const BlockHandle& handle, bool verify_checksum, std::string_view* contents);

}  // namespace lightning
