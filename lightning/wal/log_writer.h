// log::Writer: appends records to a log file in the format of log_format.h.
//
// Each AddRecord hands the whole record (every fragment and any block
// padding) to the file in one Append, so a process crash keeps or loses
// records whole; only a power loss can tear one. A writer made with
// buffer_bytes > 0 instead collects records in memory and hands them over
// when that many are waiting, on Flush, and on Sync: a process crash then
// loses the records still in the buffer (a suffix, never a synced one). The writer stamps each
// record with the offset through which the log was synced, which lets the reader tell a torn tail
// from bit rot.
//
// A writer made with reserve_bytes > 0 keeps that much space reserved past
// the records (WritableFile::ReserveAhead), so that each Sync writes data and
// not a grown file size: the write-ahead log's. The file then ends in zeros,
// which log::Reader takes for the end of the log.
//
// After an Append or Sync error the file's contents are unknown: the caller
// must stop using the writer (and never trust a later Sync).
//
// Thread safety: not thread-safe; the caller serializes all calls.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/status.h"

namespace lightning::log {

// Space each write-ahead log keeps reserved past its records
// (WritableFile::ReserveAhead): a sync write then pays for its data, not also
// for a grown file size. A quarter of the engine's write buffer, at most 1 MiB
// (one size change per 512 KiB of log): a log holds about one write buffer.
inline uint64_t LogReserveBytes(uint64_t write_buffer_bytes) {
  return std::clamp<uint64_t>(write_buffer_bytes / 4, 4096, 1 << 20);
}

class Writer {
 public:
  // REQUIRES: dest is a new, empty file, and outlives the writer.
  explicit Writer(WritableFile* dest, size_t buffer_bytes = 0, uint64_t reserve_bytes = 0)
      : dest_(dest), buffer_bytes_(buffer_bytes), reserve_bytes_(reserve_bytes) {
    buffer_.reserve(buffer_bytes);  // filled to about this, then handed over
    if (reserve_bytes_ > 0) dest_->ReserveAhead(reserve_bytes_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Appends one record. REQUIRES: payload.size() <= kMaxPayloadBytes.
  Status AddRecord(std::string_view payload);
  // Hands every buffered record to the file.
  Status Flush();
  // Makes every record added so far durable.
  Status Sync();
  // Bytes of the records added so far (buffered ones included).
  uint64_t size() const { return size_; }

 private:
  WritableFile* const dest_;
  const size_t buffer_bytes_;     // 0: no buffer
  const uint64_t reserve_bytes_;  // 0: no reserve
  std::string buffer_;            // records not yet handed to dest_
  std::string record_;            // unbuffered: the record being written (its memory reused)
  uint64_t size_ = 0;
  uint64_t synced_offset_ = 0;  // a prefix of the file known durable
};

}  // namespace lightning::log
