// fuzz_manifest_edit: libFuzzer target for VersionEdit::DecodeFrom
// (lightning/lsm/version_edit.h), the decoder of a manifest record's payload.
//
// Input: the whole input is one edit's encoded bytes.
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report; DecodeFrom returns OK or Corruption;
//  - a decoded edit is in range: levels < kNumLevels, last sequence <=
//    kMaxSequenceNumber, file keys at least an internal key's 8-byte tag;
//  - round trip: an edit that decodes re-encodes to bytes that decode to the
//    same edit, and re-encoding that gives the same bytes again (EncodeTo is
//    canonical; the input need not be, e.g. a repeated field).
//
// Thread safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lightning/lsm/dbformat.h"
#include "lightning/lsm/version_edit.h"
#include "lightning/status.h"

namespace {

using lightning::VersionEdit;

bool SameEdit(const VersionEdit& a, const VersionEdit& b) {
  if (a.log_number_ != b.log_number_ || a.next_file_number_ != b.next_file_number_ ||
      a.last_sequence_ != b.last_sequence_ || a.deleted_files_ != b.deleted_files_ ||
      a.new_files_.size() != b.new_files_.size()) {
    return false;
  }
  for (size_t i = 0; i < a.new_files_.size(); i++) {
    const auto& [level_a, fa] = a.new_files_[i];
    const auto& [level_b, fb] = b.new_files_[i];
    if (level_a != level_b || fa.number != fb.number || fa.file_bytes != fb.file_bytes ||
        fa.smallest != fb.smallest || fa.largest != fb.largest) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  VersionEdit edit;
  const lightning::Status s = edit.DecodeFrom(input, "fuzz MANIFEST");
  if (!s.ok()) {
    if (!s.IsCorruption()) abort();
    return 0;
  }
  if (edit.last_sequence_ && *edit.last_sequence_ > lightning::kMaxSequenceNumber) abort();
  for (const auto& [level, number] : edit.deleted_files_) {
    if (level < 0 || level >= lightning::kNumLevels) abort();
  }
  for (const auto& [level, f] : edit.new_files_) {
    if (level < 0 || level >= lightning::kNumLevels) abort();
    if (f.smallest.size() < lightning::kTagBytes || f.largest.size() < lightning::kTagBytes) {
      abort();
    }
  }

  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit again;
  if (!again.DecodeFrom(encoded, "re-encoded edit").ok()) abort();
  if (!SameEdit(edit, again)) abort();
  std::string encoded_again;
  again.EncodeTo(&encoded_again);
  if (encoded_again != encoded) abort();
  return 0;
}
