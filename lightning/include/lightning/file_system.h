// FileSystem: the only way the engine touches storage.
//
// Every byte the engine reads or writes, and every fsync, rename, unlink,
// mkdir, directory listing and lock goes through this interface, so that a
// simulated file system (crash_sim/) sees everything and can crash or fail at
// any operation. The POSIX implementation is FileSystem::Default().
//
// Durability rules the engine relies on, which a FileSystem must model:
//  - WritableFile::Append and RandomRWFile::Write hand bytes to the OS (they
//    survive a process crash) but they are durable only after the file's Sync
//    returned OK.
//  - Creating, renaming or removing a file is durable only after SyncDir on
//    its directory returned OK.
//  - After a failed Sync the file's unsynced bytes may be gone; the caller must
//    not retry and believe a later success.
//
// Thread safety: a FileSystem and a RandomAccessFile may be used from many
// threads at once; a SequentialFile or WritableFile by one thread at a time; a
// RandomRWFile as its class comment says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"

namespace lightning {

// Read front to back (log and manifest replay).
class SequentialFile {
 public:
  virtual ~SequentialFile();
  // Reads up to n bytes into scratch; *result points into scratch. A short or
  // empty result means end of file.
  virtual Status Read(size_t n, char* scratch, std::string_view* result) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

// Read at offsets (table files). Safe for concurrent use.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile();
  // Reads up to n bytes at offset; *result may point into scratch or into
  // memory owned by the file. Short only at end of file.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const = 0;
  // The whole file, if it is memory-mapped: valid while this object lives,
  // and the file is never written meanwhile (tables are immutable). Read of
  // a mapped file returns views of these bytes and never writes scratch.
  // Empty when the file is not mapped.
  virtual std::string_view Mapped() const { return {}; }
};

// Append-only writes (logs, tables, manifests, CURRENT).
class WritableFile {
 public:
  virtual ~WritableFile();
  // Hands the bytes to the OS before returning (no user-space buffering), so
  // they survive a process crash once Append returns OK.
  virtual Status Append(std::string_view data) = 0;
  // Makes everything appended so far durable (fdatasync/fsync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // A hint for a file that is appended to and synced often (the write-ahead
  // log): keep space allocated up to about `bytes` past the data appended so
  // far. Appends then overwrite allocated space, and a Sync need not also make
  // a grown file size durable (on ext4 that is a journal commit per fsync).
  // The file's size includes the reserved space, which reads as zeros until
  // it is appended over, so its reader must take a zero-filled tail for the
  // end of the data (log::Reader does). Best effort: a file system that cannot
  // reserve space does nothing.
  virtual void ReserveAhead(uint64_t bytes) { (void)bytes; }
};

// Reads and writes at offsets: the B+Tree's page file. Read may be called from
// many threads at once, also while one thread writes; Write, Sync and Close
// from one thread at a time.
class RandomRWFile {
 public:
  virtual ~RandomRWFile();
  // Reads up to n bytes at offset into scratch; *result points into scratch.
  // Short only at end of file.
  virtual Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const = 0;
  // Writes the bytes at offset, extending the file if needed (a gap reads as
  // zeros); handed to the OS before returning, so they survive a process crash.
  virtual Status Write(uint64_t offset, std::string_view data) = 0;
  // Makes every write so far durable (fdatasync). After a failed Sync the
  // unsynced writes may be gone; do not retry and believe a later success.
  virtual Status Sync() = 0;
  // A hint, no promise: start writing bytes [offset, offset + n) to the
  // device now, so that a later Sync has less left to wait for. Only Sync
  // makes anything durable.
  virtual void StartWriteback(uint64_t offset, uint64_t n) {
    (void)offset;
    (void)n;
  }
  // REQUIRES: no Read or View runs at the same time or later. Views already
  // returned stay readable until destruction.
  virtual Status Close() = 0;
  // A read-only memory view of the file's first `bytes` bytes, valid until the
  // object is destroyed, that reflects every later Write (a shared mapping).
  // The caller reads only bytes the file holds (below its size: past the end
  // a mapping faults). nullptr when the file system cannot map (the caller
  // then uses Read). A call with a larger `bytes` may return a new address;
  // earlier views stay valid until destruction.
  virtual const char* View(uint64_t bytes) {
    (void)bytes;
    return nullptr;
  }
};

// Held while a database is open; released by UnlockFile.
class FileLock {
 public:
  virtual ~FileLock();
};

class FileSystem {
 public:
  virtual ~FileSystem();

  // The process-wide POSIX file system. Never deleted.
  static FileSystem* Default();

  virtual Status NewSequentialFile(const std::string& path,
                                   std::unique_ptr<SequentialFile>* file) = 0;
  virtual Status NewRandomAccessFile(const std::string& path,
                                     std::unique_ptr<RandomAccessFile>* file) = 0;
  // Creates the file, or truncates an existing one.
  virtual Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) = 0;
  // Opens the file for reads and writes at offsets, creating it (empty) if it
  // does not exist; never truncates.
  virtual Status NewRandomRWFile(const std::string& path, std::unique_ptr<RandomRWFile>* file) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of a directory, without "." and "..".
  virtual Status GetChildren(const std::string& dir, std::vector<std::string>* names) = 0;
  virtual Status GetFileSize(const std::string& path, uint64_t* size) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (POSIX rename semantics).
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // OK if the directory already exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status RemoveDir(const std::string& dir) = 0;
  // Makes the directory's entries (creates, renames, removals) durable.
  virtual Status SyncDir(const std::string& dir) = 0;

  // Takes an exclusive lock on `path` (created if needed). Busy if another
  // handle, in this or another process, holds it.
  virtual Status LockFile(const std::string& path, std::unique_ptr<FileLock>* lock) = 0;
};

// Reads a whole file into *data.
Status ReadFileToString(FileSystem* fs, const std::string& path, std::string* data);

}  // namespace lightning
