#include "lightning/lsm/version_edit.h"

#include "lightning/util/coding.h"

namespace lightning {
namespace {

enum Tag : uint32_t {
  kLogNumber = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kDeletedFile = 4,
  kNewFile = 5,
};

bool GetLevel(std::string_view* input, int* level) {
  uint32_t v = 0;
  if (!GetVarint32(input, &v) || v >= kNumLevels) return false;
  *level = static_cast<int>(v);
  return true;
}

bool GetInternalKey(std::string_view* input, std::string* key) {
  std::string_view k;
  if (!GetLengthPrefixed(input, &k) || k.size() < kTagBytes) return false;
  key->assign(k);
  return true;
}

bool DecodeNewFile(std::string_view* input, int* level, FileMetaData* f) {
  return GetLevel(input, level) && GetVarint64(input, &f->number) &&
         GetVarint64(input, &f->file_bytes) && GetInternalKey(input, &f->smallest) &&
         GetInternalKey(input, &f->largest);
}

}  // namespace

void VersionEdit::EncodeTo(std::string* dst) const {
  if (log_number_) PutVarint32(dst, kLogNumber), PutVarint64(dst, *log_number_);
  if (next_file_number_) PutVarint32(dst, kNextFileNumber), PutVarint64(dst, *next_file_number_);
  if (last_sequence_) PutVarint32(dst, kLastSequence), PutVarint64(dst, *last_sequence_);
  for (const auto& [level, number] : deleted_files_) {
    PutVarint32(dst, kDeletedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  for (const auto& [level, f] : new_files_) {
    PutVarint32(dst, kNewFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_bytes);
    PutLengthPrefixed(dst, f.smallest);
    PutLengthPrefixed(dst, f.largest);
  }
}

Status VersionEdit::DecodeFrom(std::string_view src, std::string_view what) {
  *this = VersionEdit();
  std::string_view in = src;
  while (!in.empty()) {
    uint32_t tag = 0;
    uint64_t v = 0;
    int level = 0;
    bool ok = GetVarint32(&in, &tag);
    if (ok && tag == kLogNumber) {
      ok = GetVarint64(&in, &v), log_number_ = v;
    } else if (ok && tag == kNextFileNumber) {
      ok = GetVarint64(&in, &v), next_file_number_ = v;
    } else if (ok && tag == kLastSequence) {
      ok = GetVarint64(&in, &v) && v <= kMaxSequenceNumber, last_sequence_ = v;
    } else if (ok && tag == kDeletedFile) {
      ok = GetLevel(&in, &level) && GetVarint64(&in, &v);
      if (ok) deleted_files_.emplace(level, v);
    } else if (ok && tag == kNewFile) {
      FileMetaData f;
      ok = DecodeNewFile(&in, &level, &f);
      if (ok) new_files_.emplace_back(level, std::move(f));
    } else {
      ok = false;
    }
    if (!ok) {
      return Status::Corruption(std::string(what) + ": malformed version edit at byte " +
                                std::to_string(src.size() - in.size()));
    }
  }
  return Status::OK();
}

}  // namespace lightning
