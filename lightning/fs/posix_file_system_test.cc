#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lightning/file_system.h"

namespace lightning {
namespace {

class PosixFileSystemTest : public testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/lightning_fs_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    std::vector<std::string> names;
    if (fs_->GetChildren(dir_, &names).ok()) {
      for (const std::string& name : names) (void)fs_->RemoveFile(dir_ + "/" + name);
    }
    (void)fs_->RemoveDir(dir_);
  }

  void WriteFile(const std::string& path, std::string_view data) {
    std::unique_ptr<WritableFile> file;
    ASSERT_TRUE(fs_->NewWritableFile(path, &file).ok());
    ASSERT_TRUE(file->Append(data).ok());
    ASSERT_TRUE(file->Close().ok());
  }

  std::string ReadFile(const std::string& path) {
    std::string data;
    Status s = ReadFileToString(fs_, path, &data);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return data;
  }

  FileSystem* fs_ = FileSystem::Default();
  std::string dir_;
};

TEST_F(PosixFileSystemTest, AppendSyncAndReadBack) {
  const std::string path = dir_ + "/log";
  std::unique_ptr<WritableFile> file;
  ASSERT_TRUE(fs_->NewWritableFile(path, &file).ok());
  ASSERT_TRUE(file->Append("hello ").ok());
  ASSERT_TRUE(file->Append("").ok());
  // Appends reach the OS at once: another reader sees them before Sync/Close.
  EXPECT_EQ(ReadFile(path), "hello ");
  ASSERT_TRUE(file->Append("world").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(ReadFile(path), "hello world");
  uint64_t size = 0;
  ASSERT_TRUE(fs_->GetFileSize(path, &size).ok());
  EXPECT_EQ(size, 11u);
}

TEST_F(PosixFileSystemTest, NewWritableFileTruncates) {
  const std::string path = dir_ + "/f";
  WriteFile(path, "a long first version");
  WriteFile(path, "short");
  EXPECT_EQ(ReadFile(path), "short");
}

TEST_F(PosixFileSystemTest, SequentialReadAndSkip) {
  const std::string path = dir_ + "/seq";
  WriteFile(path, "0123456789");
  std::unique_ptr<SequentialFile> file;
  ASSERT_TRUE(fs_->NewSequentialFile(path, &file).ok());
  char scratch[16];
  std::string_view result;
  ASSERT_TRUE(file->Read(3, scratch, &result).ok());
  EXPECT_EQ(result, "012");
  ASSERT_TRUE(file->Skip(4).ok());
  ASSERT_TRUE(file->Read(16, scratch, &result).ok());
  EXPECT_EQ(result, "789");  // short: end of file
  ASSERT_TRUE(file->Read(16, scratch, &result).ok());
  EXPECT_TRUE(result.empty());
}

TEST_F(PosixFileSystemTest, RandomAccessReads) {
  const std::string path = dir_ + "/table";
  std::string data;
  for (int i = 0; i < 100000; i++) data.push_back(static_cast<char>('a' + i % 26));
  WriteFile(path, data);
  std::unique_ptr<RandomAccessFile> file;
  ASSERT_TRUE(fs_->NewRandomAccessFile(path, &file).ok());
  std::string scratch(200, '\0');
  std::string_view result;
  for (uint64_t offset : {0ull, 1ull, 4095ull, 4096ull, 77777ull}) {
    ASSERT_TRUE(file->Read(offset, 100, scratch.data(), &result).ok());
    EXPECT_EQ(result, std::string_view(data).substr(offset, 100)) << "offset " << offset;
  }
  ASSERT_TRUE(file->Read(data.size() - 10, 200, scratch.data(), &result).ok());
  EXPECT_EQ(result, std::string_view(data).substr(data.size() - 10));
  ASSERT_TRUE(file->Read(data.size() + 5, 10, scratch.data(), &result).ok());
  EXPECT_TRUE(result.empty());
  // On 64-bit systems the file is mapped whole, for in-place table blocks,
  // and Read returns views of the mapping without touching scratch.
  if (sizeof(void*) >= 8) {
    EXPECT_EQ(file->Mapped(), data);
    std::string untouched(200, '#');
    ASSERT_TRUE(file->Read(4096, 100, untouched.data(), &result).ok());
    EXPECT_EQ(result.data(), file->Mapped().data() + 4096);
    EXPECT_EQ(untouched, std::string(200, '#'));
  }

  // An empty file cannot be mapped; it reads as empty.
  WriteFile(dir_ + "/empty", "");
  ASSERT_TRUE(fs_->NewRandomAccessFile(dir_ + "/empty", &file).ok());
  EXPECT_TRUE(file->Mapped().empty());
  ASSERT_TRUE(file->Read(0, 10, scratch.data(), &result).ok());
  EXPECT_TRUE(result.empty());
}

TEST_F(PosixFileSystemTest, ReadFileToStringSpansChunks) {
  const std::string path = dir_ + "/big";
  std::string data(300000, 'x');
  data[123456] = 'y';
  WriteFile(path, data);
  EXPECT_EQ(ReadFile(path), data);
}

TEST_F(PosixFileSystemTest, GetChildrenListsNamesOnly) {
  WriteFile(dir_ + "/b", "");
  WriteFile(dir_ + "/a", "");
  std::vector<std::string> names;
  ASSERT_TRUE(fs_->GetChildren(dir_, &names).ok());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(fs_->FileExists(dir_ + "/a"));
  ASSERT_TRUE(fs_->RemoveFile(dir_ + "/a").ok());
  EXPECT_FALSE(fs_->FileExists(dir_ + "/a"));
  ASSERT_TRUE(fs_->GetChildren(dir_, &names).ok());
  EXPECT_EQ(names, std::vector<std::string>{"b"});
}

TEST_F(PosixFileSystemTest, RenameReplacesExistingFile) {
  WriteFile(dir_ + "/CURRENT", "old");
  WriteFile(dir_ + "/CURRENT.tmp", "new");
  ASSERT_TRUE(fs_->RenameFile(dir_ + "/CURRENT.tmp", dir_ + "/CURRENT").ok());
  ASSERT_TRUE(fs_->SyncDir(dir_).ok());
  EXPECT_EQ(ReadFile(dir_ + "/CURRENT"), "new");
  EXPECT_FALSE(fs_->FileExists(dir_ + "/CURRENT.tmp"));
}

TEST_F(PosixFileSystemTest, CreateDirIsIdempotentButRejectsAFile) {
  const std::string sub = dir_ + "/sub";
  ASSERT_TRUE(fs_->CreateDir(sub).ok());
  ASSERT_TRUE(fs_->CreateDir(sub).ok());
  ASSERT_TRUE(fs_->SyncDir(sub).ok());
  ASSERT_TRUE(fs_->RemoveDir(sub).ok());
  WriteFile(dir_ + "/plain", "");
  EXPECT_TRUE(fs_->CreateDir(dir_ + "/plain").IsIOError());
}

TEST_F(PosixFileSystemTest, SecondLockInSameProcessIsBusy) {
  const std::string path = dir_ + "/LOCK";
  std::unique_ptr<FileLock> first, second;
  ASSERT_TRUE(fs_->LockFile(path, &first).ok());
  Status s = fs_->LockFile(path, &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_EQ(second, nullptr);
  first.reset();  // unlocks
  ASSERT_TRUE(fs_->LockFile(path, &second).ok());
}

TEST_F(PosixFileSystemTest, LockHeldInAnotherProcessIsBusy) {
  const std::string path = dir_ + "/LOCK";
  std::unique_ptr<FileLock> lock;
  ASSERT_TRUE(fs_->LockFile(path, &lock).ok());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<FileLock> other;
    ::_exit(fs_->LockFile(path, &other).IsBusy() ? 0 : 1);
  }
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status));
  EXPECT_EQ(WEXITSTATUS(wait_status), 0) << "the child process took a held lock";
}

TEST_F(PosixFileSystemTest, MissingPathsGiveIOErrorNamingThePath) {
  const std::string missing = dir_ + "/no/such/dir";
  std::unique_ptr<WritableFile> w;
  Status s = fs_->NewWritableFile(missing + "/f", &w);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find(missing), std::string::npos) << s.ToString();
  std::vector<std::string> names;
  EXPECT_TRUE(fs_->GetChildren(missing, &names).IsIOError());
  std::unique_ptr<SequentialFile> r;
  EXPECT_TRUE(fs_->NewSequentialFile(dir_ + "/absent", &r).IsIOError());
  uint64_t size;
  EXPECT_TRUE(fs_->GetFileSize(dir_ + "/absent", &size).IsIOError());
  EXPECT_TRUE(fs_->RemoveFile(dir_ + "/absent").IsIOError());
  EXPECT_TRUE(fs_->SyncDir(missing).IsIOError());
  std::unique_ptr<FileLock> lock;
  EXPECT_TRUE(fs_->LockFile(missing + "/LOCK", &lock).IsIOError());
  EXPECT_FALSE(fs_->FileExists(dir_ + "/absent"));
}

// ---- RandomRWFile: the B+Tree's page file ---------------------------------

// Reads [offset, offset + n) through `file`, short at the end of the file.
std::string ReadAt(const RandomRWFile& file, uint64_t offset, size_t n) {
  std::string scratch(n, '\0');
  std::string_view result;
  Status s = file.Read(offset, n, scratch.data(), &result);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(result.empty() || result.data() == scratch.data()) << "result not in scratch";
  return std::string(result);
}

TEST_F(PosixFileSystemTest, RandomRWFileCreatesAndReopensWithoutTruncating) {
  const std::string path = dir_ + "/pages";
  std::unique_ptr<RandomRWFile> file;
  ASSERT_TRUE(fs_->NewRandomRWFile(path, &file).ok());
  EXPECT_TRUE(fs_->FileExists(path));
  uint64_t size = 1;
  ASSERT_TRUE(fs_->GetFileSize(path, &size).ok());
  EXPECT_EQ(size, 0u);  // created empty
  ASSERT_TRUE(file->Write(0, "first version").ok());
  ASSERT_TRUE(file->Sync().ok());
  ASSERT_TRUE(file->Close().ok());
  ASSERT_TRUE(file->Close().ok());  // closes once; a second Close does nothing
  file.reset();

  ASSERT_TRUE(fs_->NewRandomRWFile(path, &file).ok());
  EXPECT_EQ(ReadAt(*file, 0, 100), "first version");
  ASSERT_TRUE(file->Write(0, "FIRST").ok());
  EXPECT_EQ(ReadAt(*file, 0, 100), "FIRST version");
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(ReadFile(path), "FIRST version");
}

TEST_F(PosixFileSystemTest, RandomRWFileWritesAtOffsetsWithAZeroGap) {
  const std::string path = dir_ + "/pages";
  std::unique_ptr<RandomRWFile> file;
  ASSERT_TRUE(fs_->NewRandomRWFile(path, &file).ok());
  constexpr uint64_t kTail = 10000;
  ASSERT_TRUE(file->Write(kTail, "tail").ok());
  ASSERT_TRUE(file->Write(0, "head").ok());
  ASSERT_TRUE(file->Write(2, "AD").ok());  // overwrites in place
  ASSERT_TRUE(file->Write(50, "").ok());   // writes nothing
  const std::string expected = "heAD" + std::string(kTail - 4, '\0') + "tail";
  EXPECT_EQ(ReadAt(*file, 0, expected.size()), expected);
  EXPECT_EQ(ReadAt(*file, 4, 8), std::string(8, '\0'));  // the gap reads as zeros
  // Writes reach the OS at once: another reader sees them before Sync.
  EXPECT_EQ(ReadFile(path), expected);
  // Reads are short only at the end of the file.
  EXPECT_EQ(ReadAt(*file, kTail + 1, 100), "ail");
  EXPECT_EQ(ReadAt(*file, kTail + 4, 100), "");
  EXPECT_EQ(ReadAt(*file, kTail + 1000, 100), "");
  ASSERT_TRUE(file->Sync().ok());
  uint64_t size = 0;
  ASSERT_TRUE(fs_->GetFileSize(path, &size).ok());
  EXPECT_EQ(size, expected.size());
  ASSERT_TRUE(file->Close().ok());
}

// A view is a shared mapping: writes made after it was taken show through it,
// also past the size the file had then, and growing the view leaves the older
// address readable (a reader may still hold it) until destruction.
TEST_F(PosixFileSystemTest, RandomRWFileViewSeesLaterWrites) {
  const std::string path = dir_ + "/pages";
  std::unique_ptr<RandomRWFile> file;
  ASSERT_TRUE(fs_->NewRandomRWFile(path, &file).ok());
  ASSERT_TRUE(file->Write(0, std::string(4096, 'a')).ok());
  const char* view = file->View(4096);
  if (view == nullptr) GTEST_SKIP() << "this file system does not map files";
  EXPECT_EQ(std::string(view, 4096), std::string(4096, 'a'));
  ASSERT_TRUE(file->Write(100, "XYZ").ok());
  EXPECT_EQ(std::string(view + 99, 5), "aXYZa");
  ASSERT_TRUE(file->Write(4096, "grown").ok());  // past the size at View, inside the mapping
  EXPECT_EQ(std::string(view + 4096, 5), "grown");
  EXPECT_EQ(file->View(4101), view);  // the mapping already covers it: no remap

  constexpr uint64_t kFar = 3 << 20;  // beyond the first mapping
  ASSERT_TRUE(file->Write(kFar, "far").ok());
  const char* larger = file->View(kFar + 3);
  ASSERT_NE(larger, nullptr);
  EXPECT_EQ(std::string(larger + kFar, 3), "far");
  EXPECT_EQ(std::string(larger + 99, 5), "aXYZa");
  ASSERT_TRUE(file->Write(100, "Q").ok());
  EXPECT_EQ(view[100], 'Q') << "the older view went stale";
  EXPECT_EQ(larger[100], 'Q');
  ASSERT_TRUE(file->Close().ok());
  EXPECT_EQ(std::string(view + 99, 5), "aQYZa") << "a view must outlive Close";
}

TEST_F(PosixFileSystemTest, RandomRWFileErrorsNameThePath) {
  const std::string missing = dir_ + "/no/such/dir";
  std::unique_ptr<RandomRWFile> file;
  Status s = fs_->NewRandomRWFile(missing + "/pages", &file);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find(missing + "/pages"), std::string::npos) << s.ToString();
  EXPECT_EQ(file, nullptr);
  s = fs_->NewRandomRWFile(dir_, &file);  // a directory cannot be opened for writing
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find(dir_), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace lightning
