#include "lightning/lsm/filename.h"

#include <cinttypes>
#include <cstdio>

#include "lightning/util/crc32c.h"

namespace lightning {
namespace {

std::string NumberedName(const std::string& dir, uint64_t number, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/%06" PRIu64 ".%s", number, suffix);
  return dir + buf;
}

// Parses a decimal number that fills `digits` entirely.
bool ParseNumber(std::string_view digits, uint64_t* number) {
  if (digits.empty() || digits.size() > 19) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *number = v;
  return true;
}

}  // namespace

std::string LogFileName(const std::string& dir, uint64_t number) {
  return NumberedName(dir, number, "log");
}
std::string TableFileName(const std::string& dir, uint64_t number) {
  return NumberedName(dir, number, "sst");
}
std::string TempFileName(const std::string& dir, uint64_t number) {
  return NumberedName(dir, number, "dbtmp");
}
std::string ManifestFileName(const std::string& dir, uint64_t number) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "/MANIFEST-%06" PRIu64, number);
  return dir + buf;
}
std::string CurrentFileName(const std::string& dir) { return dir + "/CURRENT"; }
std::string LockFileName(const std::string& dir) { return dir + "/LOCK"; }
std::string PagesFileName(const std::string& dir) { return dir + "/PAGES"; }

std::string ParentDir(const std::string& dir) {
  size_t slash = dir.find_last_of('/', dir.find_last_not_of('/'));
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : dir.substr(0, slash);
}

bool ParseFileName(std::string_view name, uint64_t* number, FileType* type) {
  *number = 0;
  if (name == "CURRENT") return *type = FileType::kCurrent, true;
  if (name == "LOCK") return *type = FileType::kLock, true;
  if (name == "PAGES") return *type = FileType::kPages, true;
  if (name.starts_with("MANIFEST-")) {
    *type = FileType::kManifest;
    return ParseNumber(name.substr(9), number);
  }
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || !ParseNumber(name.substr(0, dot), number)) return false;
  std::string_view suffix = name.substr(dot + 1);
  if (suffix == "log") return *type = FileType::kLog, true;
  if (suffix == "sst") return *type = FileType::kTable, true;
  if (suffix == "dbtmp") return *type = FileType::kTemp, true;
  return false;
}

// CURRENT := "MANIFEST-" number " " manifest_bytes " " crc32c "\n", decimal,
// where the crc covers everything before it, so a flipped bit is detected.
Status SetCurrentFile(FileSystem* fs, const std::string& dir, uint64_t manifest_number,
                      uint64_t temp_number, uint64_t manifest_bytes) {
  char buf[128];
  int n = std::snprintf(buf, sizeof(buf), "MANIFEST-%06" PRIu64 " %" PRIu64 " ", manifest_number,
                        manifest_bytes);
  std::string content(buf, static_cast<size_t>(n));
  content += std::to_string(crc32c::Value(content)) + "\n";

  std::string tmp = TempFileName(dir, temp_number);
  std::unique_ptr<WritableFile> file;
  Status s = fs->NewWritableFile(tmp, &file);
  if (s.ok()) s = file->Append(content);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) s = fs->RenameFile(tmp, CurrentFileName(dir));
  if (s.ok()) s = fs->SyncDir(dir);
  if (!s.ok()) (void)fs->RemoveFile(tmp);
  return s;
}

Status ReadCurrentFile(FileSystem* fs, const std::string& dir, CurrentFile* current) {
  std::string data;
  Status s = ReadFileToString(fs, CurrentFileName(dir), &data);
  if (!s.ok()) return s;
  Status bad = Status::Corruption(CurrentFileName(dir) + ": not a valid CURRENT file");
  if (data.size() > 100 || !data.ends_with('\n')) return bad;
  size_t crc_start = data.rfind(' ', data.size() - 2);
  if (crc_start == std::string::npos) return bad;
  std::string_view body = std::string_view(data).substr(0, crc_start + 1);
  uint64_t crc = 0;
  std::string_view crc_text = std::string_view(data).substr(crc_start + 1);
  crc_text.remove_suffix(1);
  if (!ParseNumber(crc_text, &crc) || crc != crc32c::Value(body)) return bad;
  // body = "MANIFEST-<number> <bytes> "
  body.remove_suffix(1);
  size_t space = body.find(' ');
  if (!body.starts_with("MANIFEST-") || space == std::string_view::npos) return bad;
  if (!ParseNumber(body.substr(9, space - 9), &current->manifest_number) ||
      !ParseNumber(body.substr(space + 1), &current->manifest_bytes)) {
    return bad;
  }
  return Status::OK();
}

}  // namespace lightning
