// SimFileSystem: an in-memory lightning::FileSystem that can lose power.
//
// The method, in one place (after SQLite's test6.c and Pebble's crash clones):
//
// Every file has a *durable image* (the bytes a power loss cannot take away)
// and an ordered list of *pending* operations since its last successful Sync:
// writes at offsets (Append is a write at the current end; RandomRWFile::Write
// one anywhere, which may overwrite durable bytes or leave a gap of zeros past
// the end) and truncates. The file's *live* content, which reads see, is the
// durable image with every pending operation applied (RandomRWFile::View
// returns nullptr: a page file is read with Read). Every directory has its
// durable set of entries and an ordered list of pending entry operations
// (create, rename, remove) since its last successful SyncDir; the live
// namespace has them applied. Nothing is ever made durable on the engine's
// behalf: a missing fsync or directory fsync in the engine stays visible.
//
// Sync(file) folds the file's pending operations into its durable image;
// SyncDir(dir) folds the directory's pending entry operations into its durable
// entries. A file reachable only through a pending create is not durable even
// after its own Sync: its entry is lost unless the directory was synced.
//
// Crash(variant, seed) builds the image a power loss could leave: for every
// durable directory entry (and each pending entry operation that the variant
// keeps), the file's durable image plus whatever the variant keeps of the
// pending writes. The variants are the fault model of durability.md, each
// chosen by an explicit flag; kRandom mixes them per file and per operation.
// An overwrite is treated like any pending write: each of its sectors is old
// or new (kSectors), it is kept or lost in order (kPrefix), and so on.
// The same (state, variant, seed) always gives the same image.
//
// Fault injection: FailNth(kind, n, error) makes the n-th operation of a kind
// (counting from the call) fail with EIO, ENOSPC or a short write. A failed
// Sync drops the file's pending operations, as Linux does on writeback error,
// so an engine that retries fsync and believes it is caught. CrashAfter(n)
// freezes the file system after n more mutating operations: every later
// operation fails, so the state Crash() sees is the one at that point.
//
// Thread safety: all methods are thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lightning/file_system.h"

namespace crash_sim {

// What survives a power loss of the writes and directory operations that
// were not made durable.
enum class CrashVariant {
  kDropUnsynced,    // nothing unsynced survives (the classic fault-injection model)
  kKeepAll,         // everything survives: a process crash (kill -9)
  kPrefix,          // each file keeps a random prefix of its pending operations
  kSectors,         // each pending 512-byte sector is old or new in full, independently
                    // (torn and reordered writes, also across files)
  kTornSector,      // kSectors, plus one pending sector per file filled with zeros or garbage
  kSizeBeforeData,  // an appended file keeps its new size but the new bytes read as zeros;
                    // bytes overwritten below the old size keep their old value
  kRandom,          // a random one of the above per file
};
inline constexpr int kNumCrashVariants = 7;
const char* CrashVariantName(CrashVariant v);

// For every variant but kKeepAll, each pending directory operation is applied
// or lost independently (a rename may leave the new name replaced and the old
// still present); kDropUnsynced loses them all.

enum class OpKind { kOpen, kRead, kWrite, kSync, kRename, kRemove, kMkdir, kLock, kSyncDir };
inline constexpr int kNumOpKinds = 9;
enum class Fault { kEIO, kENOSPC, kShortWrite };

// A file system's durable state: path -> bytes, and the set of directories.
struct Image {
  std::map<std::string, std::string> files;
  std::set<std::string> dirs;
};

class SimFileSystem final : public lightning::FileSystem {
 public:
  SimFileSystem();
  // Starts from `image` as the durable (and live) state: how a crashed image
  // is reopened.
  explicit SimFileSystem(const Image& image);
  ~SimFileSystem() override;

  // lightning::FileSystem
  lightning::Status NewSequentialFile(const std::string& path,
                                      std::unique_ptr<lightning::SequentialFile>* file) override;
  lightning::Status NewRandomAccessFile(
      const std::string& path, std::unique_ptr<lightning::RandomAccessFile>* file) override;
  lightning::Status NewWritableFile(const std::string& path,
                                    std::unique_ptr<lightning::WritableFile>* file) override;
  lightning::Status NewRandomRWFile(const std::string& path,
                                    std::unique_ptr<lightning::RandomRWFile>* file) override;
  bool FileExists(const std::string& path) override;
  lightning::Status GetChildren(const std::string& dir, std::vector<std::string>* names) override;
  lightning::Status GetFileSize(const std::string& path, uint64_t* size) override;
  lightning::Status RemoveFile(const std::string& path) override;
  lightning::Status RenameFile(const std::string& from, const std::string& to) override;
  lightning::Status CreateDir(const std::string& dir) override;
  lightning::Status RemoveDir(const std::string& dir) override;
  lightning::Status SyncDir(const std::string& dir) override;
  lightning::Status LockFile(const std::string& path,
                             std::unique_ptr<lightning::FileLock>* lock) override;

  // The power-loss image of the current state. Deterministic in (state, variant, seed).
  Image Crash(CrashVariant variant, uint64_t seed) const;
  // The live state, as reads see it (what a process crash leaves).
  Image LiveImage() const;

  // Mutating operations so far (writes, syncs, creates, renames, removes,
  // mkdirs, directory syncs): the crash points an explorer walks.
  uint64_t mutating_ops() const;
  // After `n` more mutating operations every operation fails with IOError.
  void CrashAfter(uint64_t n);
  bool crashed() const;
  // The n-th (1-based) next operation of `kind` fails with `fault`.
  void FailNth(OpKind kind, uint64_t n, Fault fault);
  // Operations of `kind` attempted so far (failed ones included), counted as
  // FailNth counts them: on a fresh file system, FailNth(kind, i) hits the
  // operation that made this count reach i. A fault sweep reads it once per
  // run to size the sweep and to tell whether an armed fault fired.
  uint64_t op_count(OpKind kind) const;

  // A broken device: fsync of any file whose path ends with `suffix` reports
  // success and persists nothing. No engine can keep the contract on it; the
  // checker's own tests use it to make a failure on purpose. "" turns it off.
  void IgnoreSyncsOf(const std::string& suffix);

  // Calls `observer` right after every mutating operation (and once with
  // index 0 for the state before any), with the file system's mutex held:
  // `crash` builds the power-loss image at exactly that point and is valid
  // only during the call. The observer must not call back into the file
  // system. One run of a workload thus yields every crash point, whatever
  // the engine's background thread interleaves.
  using CrashFn = std::function<Image(CrashVariant variant, uint64_t seed)>;
  using Observer = std::function<void(uint64_t op_index, const CrashFn& crash)>;
  void SetObserver(Observer observer);

  // Damage between a close and the next open (bit rot).
  void FlipBit(const std::string& path, uint64_t offset, int bit);
  void ZeroRange(const std::string& path, uint64_t offset, uint64_t bytes);
  void TruncateFile(const std::string& path, uint64_t bytes);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace crash_sim
