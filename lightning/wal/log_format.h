// The log format shared by the write-ahead log and the manifest.
//
// A log file is a sequence of 32 KiB blocks. A logical record is cut into
// physical fragments so that no fragment crosses a block boundary; a reader
// that finds damage can therefore resume at the next block, where a fragment
// header always begins.
//
//   log       := block*                       (the last block may be short)
//   block     := fragment* trailer?           (kBlockBytes long)
//   trailer   := 0x00{1,6}                    (a block tail too short for a header)
//   fragment  := checksum:fixed32 length:fixed16 type:uint8 data[length]
//   checksum  := crc32c::Mask(crc32c(type data))
//   type      := kFullType | kFirstType | kMiddleType | kLastType
//   record    := FULL | FIRST MIDDLE* LAST    (the record is its fragments' data concatenated)
//   record    := synced_offset:varint64 payload
//
// synced_offset is the file offset up to which the writer knew the log was
// durable when it wrote the record. Recovery uses it to tell a torn, unsynced
// tail (expected after a power loss: stop there cleanly) from damage to bytes
// that had been made durable (bit rot: Corruption). See log_reader.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lightning/util/coding.h"

namespace lightning::log {

enum RecordType : unsigned char {
  kZeroType = 0,  // never written: zeroed bytes read as this type are damage
  kFullType = 1,
  kFirstType = 2,
  kMiddleType = 3,
  kLastType = 4,
};

inline constexpr size_t kBlockBytes = 32768;
// checksum (4) + length (2) + type (1).
inline constexpr size_t kHeaderBytes = 7;
// The largest payload a writer accepts: a write batch at its size limit.
inline constexpr size_t kMaxPayloadBytes = size_t{1} << 30;
// The largest logical record a reader assembles; anything longer is damage.
inline constexpr size_t kMaxRecordBytes = kMaxPayloadBytes + kMaxVarint64Bytes;

}  // namespace lightning::log
