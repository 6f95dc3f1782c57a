// Versions and the manifest: which table files make up the database.
//
// A Version is an immutable snapshot of the live table files, by level:
//  - level 0 holds flushed memtables; its files may overlap and are ordered
//    by file number (a higher number holds newer data);
//  - levels 1..6 each hold files with disjoint key ranges, sorted by key, and
//    no user key is split across two files of a level.
// Readers hold a shared_ptr<const Version>, so files they read stay alive.
//
// The VersionSet owns the current Version and the manifest: a log
// (lightning/wal/) of VersionEdits. An edit is applied only after it is
// durable in the manifest; a file made obsolete by an edit is deleted only
// after that. A fresh manifest (a snapshot of the current version) is written
// at every open and when the manifest grows past a limit; CURRENT is switched
// to it durably (filename.h).
//
// Thread safety: the VersionSet is guarded by the DB mutex; LogAndApply
// releases it while writing the manifest, and lets one caller at a time in
// (the flush and compaction threads; recovery writes its manifest with
// WriteNewManifest before they start).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "lightning/lsm/dbformat.h"
#include "lightning/lsm/version_edit.h"
#include "lightning/options.h"
#include "lightning/util/internal_iterator.h"

namespace lightning {

class TableCache;
class WritableFile;
namespace log {
class Writer;
}

using FileList = std::vector<std::shared_ptr<const FileMetaData>>;

class Version {
 public:
  // Looks the key up in the tables: *found is false if no table has an entry
  // for it; otherwise the result is OK (value set) or NotFound (a tombstone).
  Status Get(const ReadOptions& ro, const LookupKey& key, TableCache* cache, std::string* value,
             bool* found) const;
  // One iterator per level-0 file and one per deeper non-empty level.
  void AddIterators(const ReadOptions& ro, TableCache* cache,
                    std::vector<InternalIterator*>* iters) const;
  // Files of `level` whose user-key range meets [begin, end] (inclusive).
  FileList Overlapping(int level, std::string_view begin, std::string_view end) const;
  uint64_t LevelBytes(int level) const;
  int NumFiles(int level) const { return static_cast<int>(files_[level].size()); }
  const FileList& files(int level) const { return files_[level]; }

 private:
  friend class VersionSet;
  std::array<FileList, kNumLevels> files_;
  // The level most in need of compaction, and how much (>= 1: needed).
  double compaction_score_ = 0;
  int compaction_level_ = -1;
};

// Iterates a sorted level's files in key order, opening each when reached.
InternalIterator* NewLevelIterator(const ReadOptions& ro, TableCache* cache, FileList files);

// Inputs and output of one compaction from `level` into `level + 1`.
struct Compaction {
  int level = 0;
  std::shared_ptr<const Version> version;
  std::array<FileList, 2> inputs;  // files of level and of level + 1
  bool manual = false;

  bool IsTrivialMove() const { return !manual && inputs[0].size() == 1 && inputs[1].empty(); }
  // True if no level deeper than level + 1 can hold `user_key`, so a
  // tombstone for it may be dropped.
  bool IsBaseLevelForKey(std::string_view user_key) const;
  void AddInputDeletions(VersionEdit* edit) const;
};

class VersionSet {
 public:
  VersionSet(std::string dir, const Options& options, TableCache* table_cache);
  ~VersionSet();

  // Rebuilds the current version from the manifest CURRENT names. Corruption
  // (naming the file) for a damaged manifest or CURRENT.
  Status Recover();
  // Writes a new manifest holding the current version plus `edit`, points
  // CURRENT at it, and applies the edit. `lock` (nullptr during recovery) is
  // released during the I/O.
  Status WriteNewManifest(VersionEdit* edit, std::unique_lock<std::mutex>* lock);
  // Appends `edit` to the manifest, syncs it, then installs the new version.
  // REQUIRES: *lock holds the DB mutex; it is released during the I/O. Edits
  // from several threads (the flush and the compaction thread) apply one at a
  // time, each on the version the one before installed. After a failure the
  // manifest's tail is unknown (the edit may be durable or not): every later
  // call returns that error.
  Status LogAndApply(VersionEdit* edit, std::unique_lock<std::mutex>* lock);
  // After a clean close: records the manifest's length in CURRENT so that the
  // next open detects damage to its tail.
  Status MarkCleanClose();

  std::shared_ptr<const Version> current() const { return current_; }
  uint64_t NewFileNumber() { return next_file_number_++; }
  uint64_t next_file_number() const { return next_file_number_; }
  void MarkFileNumberUsed(uint64_t n) { next_file_number_ = std::max(next_file_number_, n + 1); }
  uint64_t log_number() const { return log_number_; }
  uint64_t manifest_number() const { return manifest_number_; }
  // The last published sequence: every write up to it is in a memtable or a
  // table. Written by the writer that publishes (without mu_), read anywhere;
  // the release/acquire pair makes a reader that sees a sequence see the
  // memtable insert before it.
  SequenceNumber last_sequence() const { return last_sequence_.load(std::memory_order_acquire); }
  void SetLastSequence(SequenceNumber s) { last_sequence_.store(s, std::memory_order_release); }

  // Numbers of every table file some live version still references.
  void AddLiveFiles(std::set<uint64_t>* live);
  bool NeedsCompaction() const { return current_->compaction_score_ >= 1; }
  std::unique_ptr<Compaction> PickCompaction();
  // Every file of `level` with what it overlaps in level + 1 (nullptr if the level is empty).
  std::unique_ptr<Compaction> CompactLevel(int level);
  uint64_t MaxBytesForLevel(int level) const;

 private:
  std::shared_ptr<Version> Apply(const Version& base, const VersionEdit& edit) const;
  void Finalize(Version* v) const;
  void Install(std::shared_ptr<Version> v);
  Status AppendEdit(const VersionEdit& edit);
  Status LogAndApplyAlone(VersionEdit* edit, std::unique_lock<std::mutex>* lock);
  Status WriteManifestFile(const VersionEdit& snapshot, uint64_t number, uint64_t temp_number,
                           std::unique_ptr<WritableFile>* file,
                           std::unique_ptr<log::Writer>* writer);
  Status ReplayManifest(const std::string& name, uint64_t expected_bytes);
  void ExpandInputs(Compaction* c) const;

  const std::string dir_;
  const Options& options_;
  TableCache* const table_cache_;

  std::shared_ptr<const Version> current_;
  std::vector<std::weak_ptr<const Version>> live_versions_;
  uint64_t next_file_number_ = 2;
  uint64_t log_number_ = 0;
  uint64_t manifest_number_ = 0;
  std::atomic<SequenceNumber> last_sequence_{0};
  std::array<std::string, kNumLevels> compact_pointer_;  // round-robin per level

  std::unique_ptr<WritableFile> manifest_file_;
  std::unique_ptr<log::Writer> manifest_log_;
  bool applying_ = false;  // a LogAndApply is writing; guarded by the DB mutex
  std::condition_variable applied_cv_;
  Status apply_error_;  // sticky: the first failed LogAndApply
};

}  // namespace lightning
