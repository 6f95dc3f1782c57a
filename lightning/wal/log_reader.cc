#include "lightning/wal/log_reader.h"

#include <algorithm>
#include <utility>

#include "lightning/util/coding.h"
#include "lightning/util/crc32c.h"
#include "lightning/wal/log_format.h"

namespace lightning::log {
namespace {

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// True if the intact record at record_offset says that the log had been synced
// past `damage`. A real record never claims more than the bytes before it.
bool ProvesSynced(std::string_view record, uint64_t record_offset, uint64_t damage,
                  uint64_t* synced_offset) {
  return GetVarint64(&record, synced_offset) && *synced_offset > damage &&
         *synced_offset <= record_offset;
}

}  // namespace

Reader::Reader(SequentialFile* file, std::string file_name)
    : file_(file), file_name_(std::move(file_name)), block_(new char[kBlockBytes]) {}

bool Reader::ReadRecord(std::string* record) {
  if (stopped_) return false;
  std::optional<uint64_t> damage;
  uint64_t offset = 0;
  if (!NextIntactRecord(record, &offset, &damage)) {
    stopped_ = true;
    if (damage && status_.ok()) EndAtTail(*damage);
    return false;
  }
  std::string_view payload(*record);
  uint64_t synced_offset = 0;
  if (!damage && GetVarint64(&payload, &synced_offset)) {
    record->erase(0, record->size() - payload.size());
    last_record_offset_ = offset;
    end_of_records_ = BufferOffset();
    return true;
  }
  // Intact records past the damage are not returned (the prefix property),
  // but they are evidence of whether the damaged bytes had been synced.
  stopped_ = true;
  if (!damage) damage = offset;  // intact, but without a synced_offset
  ClassifyDamage(record, offset, *damage);
  return false;
}

void Reader::RejectLastRecord() {
  if (stopped_) return;
  stopped_ = true;
  std::string record;
  ClassifyDamage(&record, last_record_offset_, last_record_offset_);  // reads on for evidence
}

// `record` (at `offset`) is the first intact record after the damage, if the
// damage was found before one.
void Reader::ClassifyDamage(std::string* record, uint64_t offset, uint64_t damage) {
  uint64_t synced_offset = 0;
  bool evidence = offset > damage && ProvesSynced(*record, offset, damage, &synced_offset);
  while (!evidence) {
    std::optional<uint64_t> ignored;
    if (!NextIntactRecord(record, &offset, &ignored)) break;
    evidence = ProvesSynced(*record, offset, damage, &synced_offset);
  }
  record->clear();
  if (!status_.ok()) return;  // a read error hides the answer
  if (!evidence) {
    EndAtTail(damage);
    return;
  }
  status_ =
      Status::Corruption(file_name_ + ": damaged log record at offset " + std::to_string(damage) +
                         ", which was synced: the record at " + std::to_string(offset) +
                         " says the log was durable through " + std::to_string(synced_offset));
}

// Called with the whole file read. Zeros from `damage` to the end of the file
// are the log's end, not damage: space the writer reserved ahead
// (WritableFile::ReserveAhead), or appends a power loss left as zeros.
void Reader::EndAtTail(uint64_t damage) {
  if (nonzero_end_ > damage) tail_damage_offset_ = damage;
}

// Returns the next intact logical record (fragment checksums and sequence
// valid), skipping damage; *damage is set to the first damage skipped, if any.
// False at the end of the file or on a read error.
bool Reader::NextIntactRecord(std::string* record, uint64_t* offset,
                              std::optional<uint64_t>* damage) {
  auto note = [damage](uint64_t at) {
    if (!*damage) *damage = at;
  };
  bool in_record = false;
  while (true) {
    Fragment f;
    switch (ReadFragment(&f)) {
      case ReadResult::kEndOfFile:
        if (in_record) note(*offset);
        return false;
      case ReadResult::kIOError:
        return false;
      case ReadResult::kDamaged:
        note(in_record ? *offset : f.offset);
        in_record = false;
        continue;
      case ReadResult::kFragment:
        break;
    }
    bool starts = f.type == kFullType || f.type == kFirstType;
    if (in_record == starts) {  // a record restarted, or continued without a start
      note(in_record ? *offset : f.offset);
      in_record = false;
      if (!starts) continue;
    }
    if (starts) {
      record->assign(f.data);
      *offset = f.offset;
      in_record = true;
    } else if (record->size() + f.data.size() > kMaxRecordBytes) {
      note(*offset);
      in_record = false;
      continue;
    } else {
      record->append(f.data);
    }
    if (f.type == kFullType || f.type == kLastType) return true;
  }
}

Reader::ReadResult Reader::ReadFragment(Fragment* f) {
  while (buffer_.size() < kHeaderBytes) {
    f->offset = BufferOffset();
    // In a full block a short tail is padding, which must be zeros; in the
    // last block it is a header cut short by the end of the file.
    if (eof_ || !AllZero(buffer_)) {
      bool truncated = !buffer_.empty();
      buffer_ = {};
      if (truncated) return ReadResult::kDamaged;
      if (eof_) return ReadResult::kEndOfFile;
    }
    if (!ReadBlock()) return ReadResult::kIOError;
  }
  const char* header = buffer_.data();
  size_t length = static_cast<unsigned char>(header[4]) |
                  (static_cast<size_t>(static_cast<unsigned char>(header[5])) << 8);
  f->type = static_cast<unsigned char>(header[6]);
  f->offset = BufferOffset();
  f->data = std::string_view(header + kHeaderBytes, length);
  bool plausible =
      kHeaderBytes + length <= buffer_.size() && f->type != kZeroType && f->type <= kLastType;
  if (plausible && crc32c::Unmask(DecodeFixed32(header)) == crc32c::Value(header + 6, length + 1)) {
    buffer_.remove_prefix(kHeaderBytes + length);
    return ReadResult::kFragment;
  }
  // A checksum mismatch under a plausible header most likely hit the data, so
  // the next fragment starts right after it: skipping only this fragment keeps
  // the later records of the block as evidence for ClassifyDamage. Otherwise
  // the rest of the block cannot be trusted; the next block starts a header.
  buffer_.remove_prefix(plausible ? kHeaderBytes + length : buffer_.size());
  return ReadResult::kDamaged;
}

bool Reader::ReadBlock() {
  Status s = file_->Read(kBlockBytes, block_.get(), &buffer_);
  if (!s.ok()) {
    status_ = Status::IOError(file_name_ + ": reading log at offset " +
                              std::to_string(end_of_buffer_offset_) + ": " + s.ToString());
    buffer_ = {};
    eof_ = true;
    return false;
  }
  const auto last_nonzero =
      std::find_if(buffer_.rbegin(), buffer_.rend(), [](char c) { return c != 0; });
  if (last_nonzero != buffer_.rend()) {
    nonzero_end_ = end_of_buffer_offset_ + static_cast<uint64_t>(buffer_.rend() - last_nonzero);
  }
  end_of_buffer_offset_ += buffer_.size();
  eof_ = buffer_.size() < kBlockBytes;
  return true;
}

}  // namespace lightning::log
