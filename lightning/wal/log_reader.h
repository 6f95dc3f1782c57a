// log::Reader: reads back the records of a log file (log_format.h) in order.
//
// The reader returns a prefix of the records: at the first damage (a bad
// checksum, an impossible length, an unknown type, a broken fragment sequence,
// zeroed bytes, a record cut short by the end of the file) it stops returning
// records. It then decides what the damage is by scanning the rest of the file
// for an intact record whose synced_offset lies beyond the damage:
//  - none: the damage is an unsynced tail torn by a power loss. status() stays
//    OK and tail_damage_offset() says where the log was cut.
//  - one: the damaged bytes had been made durable, so this is real corruption
//    and status() is a Corruption naming the file and the offset.
// Damage at offset D here means the start of the logical record in which it
// was found (or of the damaged fragment when no record was in progress).
// Damage in the last synced records, with no record written after the Sync
// that covered them, cannot be told from a torn tail; the caller must know the
// synced size some other way (end_of_records) to catch it.
// Zeros from the damage to the end of the file are no damage at all but the
// log's end: space the writer reserved (log::Writer's reserve_bytes), or
// appends that a power loss left as zeros. The log then ended cleanly.
//
// Memory: one 32 KiB block plus the record being assembled; the file is never
// held whole.
//
// Thread safety: not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/status.h"

namespace lightning::log {

class Reader {
 public:
  // REQUIRES: file is positioned at the start of the log and outlives the
  // reader. file_name only labels error messages.
  Reader(SequentialFile* file, std::string file_name);
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Stores the next record's payload in *record and returns true; false at the
  // end of the intact prefix, on damage, or on a read error: then check status().
  bool ReadRecord(std::string* record);
  // The caller found the last record returned unusable although intact (a
  // value it names in another file is damaged or missing): it counts as
  // damage at last_record_offset(). Reading stops, and status() says what
  // it was, as for damage the reader finds itself: Corruption if a later
  // intact record proves that the log had been synced past it, else OK with
  // tail_damage_offset() set (an unsynced record, torn by a power loss).
  void RejectLastRecord();
  // OK, Corruption (damage to synced bytes) or the IOError of a failed read.
  Status status() const { return status_; }
  // File offset of the first fragment of the last record returned.
  uint64_t last_record_offset() const { return last_record_offset_; }
  // Where an unsynced tail was cut, once ReadRecord returned false with an OK
  // status; empty if the log ended cleanly (at the end of the file, or where
  // only zeros follow).
  std::optional<uint64_t> tail_damage_offset() const { return tail_damage_offset_; }
  // The file offset just past the last record returned (0 before any).
  uint64_t end_of_records() const { return end_of_records_; }

 private:
  struct Fragment {
    unsigned char type = 0;
    std::string_view data;
    uint64_t offset = 0;  // of its header
  };
  enum class ReadResult { kFragment, kDamaged, kEndOfFile, kIOError };

  ReadResult ReadFragment(Fragment* fragment);
  bool ReadBlock();
  uint64_t BufferOffset() const { return end_of_buffer_offset_ - buffer_.size(); }
  bool NextIntactRecord(std::string* record, uint64_t* offset, std::optional<uint64_t>* damage);
  void ClassifyDamage(std::string* record, uint64_t offset, uint64_t damage);
  void EndAtTail(uint64_t damage);

  SequentialFile* const file_;
  const std::string file_name_;
  const std::unique_ptr<char[]> block_;
  std::string_view buffer_;  // the unread part of the current block
  uint64_t end_of_buffer_offset_ = 0;
  bool eof_ = false;      // the current block is the file's last
  bool stopped_ = false;  // ReadRecord returns no more records
  Status status_;
  uint64_t last_record_offset_ = 0;
  uint64_t end_of_records_ = 0;
  uint64_t nonzero_end_ = 0;  // just past the last non-zero byte read so far
  std::optional<uint64_t> tail_damage_offset_;
};

}  // namespace lightning::log
