#include "lightning/file_system.h"

namespace lightning {

// Out of line so that each class's vtable is emitted in one translation unit.
SequentialFile::~SequentialFile() = default;
RandomAccessFile::~RandomAccessFile() = default;
WritableFile::~WritableFile() = default;
RandomRWFile::~RandomRWFile() = default;
FileLock::~FileLock() = default;
FileSystem::~FileSystem() = default;

Status ReadFileToString(FileSystem* fs, const std::string& path, std::string* data) {
  data->clear();
  std::unique_ptr<SequentialFile> file;
  Status s = fs->NewSequentialFile(path, &file);
  if (!s.ok()) return s;
  constexpr size_t kChunkBytes = 64 << 10;
  std::string scratch(kChunkBytes, '\0');
  while (true) {
    std::string_view chunk;
    s = file->Read(kChunkBytes, scratch.data(), &chunk);
    if (!s.ok()) return s;
    if (chunk.empty()) return Status::OK();
    data->append(chunk);
  }
}

}  // namespace lightning
