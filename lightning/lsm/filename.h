// The names of the files in a database directory, and the CURRENT pointer.
//
//   NNNNNN.log        write-ahead log (lightning/wal/)
//   NNNNNN.sst        table file (lightning/table/)
//   MANIFEST-NNNNNN   manifest: the log of version edits (version_set.h)
//   CURRENT           names the live manifest (see SetCurrentFile)
//   LOCK              held (flock) while the database is open
//   PAGES             the B+Tree engine's page file (lightning/btree/); the
//                     B+Tree shares the log and lock names, not the others
//   NNNNNN.dbtmp      a file being written before it is renamed into place
//
// File numbers come from one counter and are never reused, also across
// crashes (recovery raises the counter above every number in the directory).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lightning/file_system.h"
#include "lightning/status.h"

namespace lightning {

enum class FileType { kLog, kTable, kManifest, kCurrent, kLock, kTemp, kPages };

std::string LogFileName(const std::string& dir, uint64_t number);
std::string TableFileName(const std::string& dir, uint64_t number);
std::string ManifestFileName(const std::string& dir, uint64_t number);
std::string CurrentFileName(const std::string& dir);
std::string LockFileName(const std::string& dir);
std::string TempFileName(const std::string& dir, uint64_t number);
std::string PagesFileName(const std::string& dir);
// The directory holding `dir` ("." for a relative name without a slash).
std::string ParentDir(const std::string& dir);

// Recognizes a directory entry's name; false for names that are not ours.
bool ParseFileName(std::string_view name, uint64_t* number, FileType* type);

// Points CURRENT at MANIFEST-<manifest_number> durably: write a temp file,
// fsync it, rename it over CURRENT, fsync the directory. `manifest_bytes`,
// when non-zero, records the manifest's length after a clean close, so that
// damage to its tail is detected instead of read as a torn write.
Status SetCurrentFile(FileSystem* fs, const std::string& dir, uint64_t manifest_number,
                      uint64_t temp_number, uint64_t manifest_bytes);

struct CurrentFile {
  uint64_t manifest_number = 0;
  uint64_t manifest_bytes = 0;  // 0: not closed cleanly
};
// Corruption naming CURRENT if its content is not what SetCurrentFile writes.
Status ReadCurrentFile(FileSystem* fs, const std::string& dir, CurrentFile* current);

}  // namespace lightning
