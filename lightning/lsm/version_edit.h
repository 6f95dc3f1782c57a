// VersionEdit: one change to the set of live table files, as recorded in the
// manifest. Replaying the manifest's edits in order rebuilds the current
// Version (version_set.h).
//
// Encoding (a manifest record's payload): a sequence of tagged fields
//   edit  := field*
//   field := kLogNumber varint64 | kNextFileNumber varint64
//          | kLastSequence varint64
//          | kDeletedFile level:varint32 number:varint64
//          | kNewFile level:varint32 number:varint64 size:varint64
//                     smallest:varstring largest:varstring   (internal keys)
// with tags as varint32. Unknown tags are Corruption (no silent skipping).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightning/lsm/dbformat.h"
#include "lightning/status.h"

namespace lightning {

inline constexpr int kNumLevels = 7;

// A table file as the version set knows it. Immutable once created.
struct FileMetaData {
  uint64_t number = 0;
  uint64_t file_bytes = 0;
  std::string smallest;  // internal keys, inclusive
  std::string largest;
};

class VersionEdit {
 public:
  void SetLogNumber(uint64_t n) { log_number_ = n; }
  void SetNextFileNumber(uint64_t n) { next_file_number_ = n; }
  void SetLastSequence(SequenceNumber s) { last_sequence_ = s; }
  void AddFile(int level, const FileMetaData& f) { new_files_.emplace_back(level, f); }
  void RemoveFile(int level, uint64_t number) { deleted_files_.emplace(level, number); }

  void EncodeTo(std::string* dst) const;
  // Corruption (mentioning `what`) for any malformed byte.
  Status DecodeFrom(std::string_view src, std::string_view what);

  std::optional<uint64_t> log_number_;
  std::optional<uint64_t> next_file_number_;
  std::optional<SequenceNumber> last_sequence_;
  std::set<std::pair<int, uint64_t>> deleted_files_;
  std::vector<std::pair<int, FileMetaData>> new_files_;
};

}  // namespace lightning
