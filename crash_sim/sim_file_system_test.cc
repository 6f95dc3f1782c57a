// Tests for SimFileSystem: the live file-system semantics first, then each
// crash variant, fault injection, the observer, and one end-to-end run of a
// real database. Randomized tests print their base seed and take one back
// through LIGHTNING_SEED.
#include "crash_sim/sim_file_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "lightning/db.h"
#include "lightning/lsm/lsm_db.h"

namespace crash_sim {
namespace {

using lightning::Status;

#define SIM_ASSERT_OK(expr)                                 \
  do {                                                      \
    const Status _s = (expr);                               \
    ASSERT_TRUE(_s.ok()) << #expr << ": " << _s.ToString(); \
  } while (0)

constexpr size_t kSector = 512;
constexpr uint64_t kSeedsPerTest = 300;

uint64_t BaseSeed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("LIGHTNING_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

// Creates (or truncates) `path`, appends each piece, and syncs if asked.
void Write(SimFileSystem* fs, const std::string& path, const std::vector<std::string>& pieces,
           bool sync) {
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs->NewWritableFile(path, &file));
  for (const std::string& piece : pieces) SIM_ASSERT_OK(file->Append(piece));
  if (sync) SIM_ASSERT_OK(file->Sync());
  SIM_ASSERT_OK(file->Close());
}

std::string Read(SimFileSystem* fs, const std::string& path) {
  std::string data;
  Status s = lightning::ReadFileToString(fs, path, &data);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return data;
}

// A file system whose directory /d is durable.
Image DirImage() {
  Image image;
  image.dirs.insert("/d");
  return image;
}

// ---- Live semantics ---------------------------------------------------------

TEST(SimFileSystemTest, WriteAndRead) {
  SimFileSystem fs;
  Write(&fs, "/d/f", {"hello ", "world"}, false);
  EXPECT_TRUE(fs.FileExists("/d/f"));
  EXPECT_EQ(Read(&fs, "/d/f"), "hello world");
  uint64_t size = 0;
  SIM_ASSERT_OK(fs.GetFileSize("/d/f", &size));
  EXPECT_EQ(size, 11u);

  std::unique_ptr<lightning::RandomAccessFile> file;
  SIM_ASSERT_OK(fs.NewRandomAccessFile("/d/f", &file));
  char scratch[16];
  std::string_view result;
  SIM_ASSERT_OK(file->Read(6, 10, scratch, &result));
  EXPECT_EQ(result, "world");  // short only at the end of the file
  EXPECT_TRUE(fs.NewSequentialFile("/d/missing", nullptr).IsNotFound());
  EXPECT_TRUE(fs.GetFileSize("/d/missing", &size).IsNotFound());
}

TEST(SimFileSystemTest, NewWritableFileTruncates) {
  SimFileSystem fs;
  Write(&fs, "f", {"old contents"}, true);
  Write(&fs, "f", {"new"}, false);
  EXPECT_EQ(Read(&fs, "f"), "new");
}

TEST(SimFileSystemTest, RenameRemoveAndChildren) {
  SimFileSystem fs;
  SIM_ASSERT_OK(fs.CreateDir("/d/"));
  SIM_ASSERT_OK(fs.CreateDir("/d"));  // OK if it exists
  SIM_ASSERT_OK(fs.CreateDir("/d/sub"));
  Write(&fs, "/d/a", {"A"}, false);
  Write(&fs, "/d/b", {"B"}, false);
  Write(&fs, "/other/c", {"C"}, false);
  std::vector<std::string> names;
  SIM_ASSERT_OK(fs.GetChildren("/d/", &names));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "sub"}));

  SIM_ASSERT_OK(fs.RenameFile("/d/a", "/d/b"));  // replaces b
  EXPECT_FALSE(fs.FileExists("/d/a"));
  EXPECT_EQ(Read(&fs, "/d/b"), "A");
  SIM_ASSERT_OK(fs.RemoveFile("/d/b"));
  EXPECT_TRUE(fs.RemoveFile("/d/b").IsNotFound());
  EXPECT_TRUE(fs.RenameFile("/d/a", "/d/x").IsNotFound());
  EXPECT_FALSE(fs.RemoveDir("/d").ok());  // not empty
  SIM_ASSERT_OK(fs.RemoveDir("/d/sub"));
  SIM_ASSERT_OK(fs.GetChildren("/d", &names));
  EXPECT_TRUE(names.empty());
  EXPECT_TRUE(fs.GetChildren("/nowhere", &names).IsNotFound());
}

TEST(SimFileSystemTest, OpenHandlesFollowTheInode) {
  SimFileSystem fs;
  std::unique_ptr<lightning::WritableFile> writer;
  SIM_ASSERT_OK(fs.NewWritableFile("tmp", &writer));
  SIM_ASSERT_OK(writer->Append("one"));
  SIM_ASSERT_OK(fs.RenameFile("tmp", "final"));
  SIM_ASSERT_OK(writer->Append("two"));  // lands in the renamed file
  EXPECT_EQ(Read(&fs, "final"), "onetwo");

  std::unique_ptr<lightning::SequentialFile> reader;
  SIM_ASSERT_OK(fs.NewSequentialFile("final", &reader));
  SIM_ASSERT_OK(fs.RemoveFile("final"));
  char scratch[16];
  std::string_view result;
  SIM_ASSERT_OK(reader->Read(sizeof(scratch), scratch, &result));
  EXPECT_EQ(result, "onetwo");  // an unlinked file stays readable through its handle
}

TEST(SimFileSystemTest, LockIsExclusiveUntilReleased) {
  SimFileSystem fs;
  std::unique_ptr<lightning::FileLock> lock;
  SIM_ASSERT_OK(fs.LockFile("/d/LOCK", &lock));
  EXPECT_TRUE(fs.FileExists("/d/LOCK"));
  std::unique_ptr<lightning::FileLock> second;
  EXPECT_TRUE(fs.LockFile("/d/LOCK", &second).IsBusy());
  lock.reset();
  SIM_ASSERT_OK(fs.LockFile("/d/LOCK", &second));
}

// ---- Crash: files and directories -------------------------------------------

TEST(SimFileSystemTest, UnsyncedDataIsDroppedOrKept) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("/d/f", &file));
  SIM_ASSERT_OK(file->Append("synced"));
  SIM_ASSERT_OK(file->Sync());
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  SIM_ASSERT_OK(file->Append("+unsynced"));

  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/f"), "synced");
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files.at("/d/f"), "synced+unsynced");
  Image live = fs.LiveImage();
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files, live.files);
}

// Reserved space is a pending write of zeros past the data; appends then land at the end of the
// data, over the zeros, and a crash keeps or drops the reserve like any unsynced write.
TEST(SimFileSystemTest, ReserveAheadAddsZerosThatAppendsOverwrite) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("/d/log", &file));
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  SIM_ASSERT_OK(file->Append("abc"));
  file->ReserveAhead(8);
  EXPECT_EQ(Read(&fs, "/d/log"), std::string("abc") + std::string(8, '\0'));
  SIM_ASSERT_OK(file->Append("de"));
  EXPECT_EQ(Read(&fs, "/d/log"), std::string("abcde") + std::string(6, '\0'));
  file->ReserveAhead(8);  // more than half of it is left: nothing to do
  EXPECT_EQ(Read(&fs, "/d/log").size(), 11u);
  SIM_ASSERT_OK(file->Append("fghij"));  // 1 byte of reserve left: the next call extends it
  file->ReserveAhead(8);
  EXPECT_EQ(Read(&fs, "/d/log"), std::string("abcdefghij") + std::string(8, '\0'));

  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/log"), "");
  SIM_ASSERT_OK(file->Sync());
  SIM_ASSERT_OK(file->Append("k"));
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/log"),
            std::string("abcdefghij") + std::string(8, '\0'));
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files.at("/d/log"),
            std::string("abcdefghijk") + std::string(7, '\0'));
  SIM_ASSERT_OK(file->Close());
}

TEST(SimFileSystemTest, NewFileNeedsDirectorySync) {
  SimFileSystem fs(DirImage());
  Write(&fs, "/d/f", {"data"}, /*sync=*/true);
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.count("/d/f"), 0u);
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/f"), "data");
}

TEST(SimFileSystemTest, NewDirectoryNeedsParentSync) {
  SimFileSystem fs;
  SIM_ASSERT_OK(fs.CreateDir("/db"));
  Write(&fs, "/db/f", {"data"}, true);
  SIM_ASSERT_OK(fs.SyncDir("/db"));
  Image lost = fs.Crash(CrashVariant::kDropUnsynced, 1);
  EXPECT_EQ(lost.dirs.count("/db"), 0u);
  EXPECT_TRUE(lost.files.empty());  // the file goes with its directory
  SIM_ASSERT_OK(fs.SyncDir("/"));
  Image kept = fs.Crash(CrashVariant::kDropUnsynced, 1);
  EXPECT_EQ(kept.dirs.count("/db"), 1u);
  EXPECT_EQ(kept.files.at("/db/f"), "data");
}

TEST(SimFileSystemTest, UnsyncedRenameHasThreeOutcomes) {
  Image start = DirImage();
  start.files = {{"/d/a", "A"}, {"/d/b", "B"}};
  SimFileSystem fs(start);
  SIM_ASSERT_OK(fs.RenameFile("/d/a", "/d/b"));

  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files, start.files);
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files, fs.LiveImage().files);
  using Files = std::map<std::string, std::string>;
  const std::set<Files> allowed = {
      {{"/d/a", "A"}, {"/d/b", "B"}},  // lost
      {{"/d/b", "A"}},                 // applied
      {{"/d/a", "A"}, {"/d/b", "A"}},  // destination replaced, source still present
  };
  std::set<Files> seen;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    Files files = fs.Crash(CrashVariant::kPrefix, base + i).files;
    ASSERT_EQ(allowed.count(files), 1u) << "seed " << base + i;
    seen.insert(files);
  }
  EXPECT_EQ(seen, allowed);

  SIM_ASSERT_OK(fs.SyncDir("/d"));
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files, (Files{{"/d/b", "A"}}));
}

TEST(SimFileSystemTest, PrefixKeepsOnlyPrefixes) {
  SimFileSystem fs(DirImage());
  Write(&fs, "/d/f", {"base"}, true);
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  const std::vector<std::string> pieces = {"p1", "p22", "p333", "p4444"};
  Write(&fs, "/d/f", pieces, false);  // a truncate, then four appends
  std::set<std::string> prefixes = {"base", ""};
  std::string acc;
  for (const std::string& piece : pieces) prefixes.insert(acc += piece);

  std::set<std::string> seen;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    std::string content = fs.Crash(CrashVariant::kPrefix, base + i).files.at("/d/f");
    ASSERT_EQ(prefixes.count(content), 1u) << "seed " << base + i << ": " << content;
    seen.insert(content);
  }
  EXPECT_EQ(seen, prefixes);
}

// A durable file of `sectors` sectors of 'o', rewritten (truncate, then
// appends) with as many sectors of 'n', not synced.
void RewriteSectors(SimFileSystem* fs, size_t sectors) {
  Write(fs, "/d/f", {std::string(sectors * kSector, 'o')}, true);
  SIM_ASSERT_OK(fs->SyncDir("/d"));
  Write(fs, "/d/f", {std::string(sectors * kSector, 'n')}, false);
}

// Counts the sectors of `content` that are all `c`.
size_t SectorsOf(const std::string& content, char c) {
  size_t count = 0;
  for (size_t off = 0; off < content.size(); off += kSector) {
    std::string_view sector = std::string_view(content).substr(off, kSector);
    count += std::all_of(sector.begin(), sector.end(), [c](char x) { return x == c; });
  }
  return count;
}

TEST(SimFileSystemTest, SectorsAreEachOldOrNew) {
  constexpr size_t kSectors = 8;
  SimFileSystem fs(DirImage());
  RewriteSectors(&fs, kSectors);
  bool mixed = false;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    std::string content = fs.Crash(CrashVariant::kSectors, base + i).files.at("/d/f");
    ASSERT_EQ(content.size(), kSectors * kSector) << "seed " << base + i;
    size_t old_sectors = SectorsOf(content, 'o');
    size_t new_sectors = SectorsOf(content, 'n');
    ASSERT_EQ(old_sectors + new_sectors, kSectors) << "seed " << base + i;
    mixed |= old_sectors > 0 && new_sectors > 0;
  }
  EXPECT_TRUE(mixed);
}

TEST(SimFileSystemTest, SectorsOfAnAppendAreNewOrHoles) {
  SimFileSystem fs(DirImage());
  Write(&fs, "/d/f", {}, true);
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  const std::string appended = std::string(4 * kSector, 'n') + std::string(100, 'm');
  Write(&fs, "/d/f", {appended}, false);
  std::set<size_t> sizes;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    std::string content = fs.Crash(CrashVariant::kSectors, base + i).files.at("/d/f");
    sizes.insert(content.size());
    // The size is the durable size or the end of a sector that survived new.
    ASSERT_TRUE(content.empty() || content.size() % kSector == 0 ||
                content.size() == appended.size())
        << "seed " << base + i;
    ASSERT_TRUE(content.empty() || content.back() != '\0') << "seed " << base + i;
    for (size_t off = 0; off < content.size(); off += kSector) {
      std::string_view got = std::string_view(content).substr(off, kSector);
      std::string_view fresh = std::string_view(appended).substr(off, got.size());
      ASSERT_TRUE(got == fresh || got == std::string(got.size(), '\0')) << "seed " << base + i;
    }
  }
  EXPECT_GT(sizes.size(), 2u);
}

TEST(SimFileSystemTest, TornSectorIsZerosOrGarbage) {
  constexpr size_t kSectors = 8;
  SimFileSystem fs(DirImage());
  RewriteSectors(&fs, kSectors);
  bool zeros = false;
  bool garbage = false;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    std::string content = fs.Crash(CrashVariant::kTornSector, base + i).files.at("/d/f");
    ASSERT_EQ(content.size(), kSectors * kSector);
    size_t torn = kSectors - SectorsOf(content, 'o') - SectorsOf(content, 'n');
    size_t zero = SectorsOf(content, '\0');
    ASSERT_EQ(torn, 1u) << "seed " << base + i;  // exactly one sector per file is torn
    zeros |= zero == 1;
    garbage |= zero == 0;
  }
  EXPECT_TRUE(zeros);
  EXPECT_TRUE(garbage);
}

TEST(SimFileSystemTest, TornSectorSparesSyncedBytes) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("/d/f", &file));
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  const std::string synced(100, 's');
  SIM_ASSERT_OK(file->Append(synced));
  SIM_ASSERT_OK(file->Sync());
  SIM_ASSERT_OK(file->Append(std::string(300, 'n')));  // shares sector 0 with the synced bytes
  bool torn = false;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    std::string content = fs.Crash(CrashVariant::kTornSector, base + i).files.at("/d/f");
    ASSERT_EQ(content.substr(0, synced.size()), synced) << "seed " << base + i;
    torn |= content.size() > synced.size() && content[synced.size()] != 'n';
  }
  EXPECT_TRUE(torn);
}

TEST(SimFileSystemTest, SizeBeforeDataReadsZeros) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("/d/f", &file));
  SIM_ASSERT_OK(file->Append("abc"));
  SIM_ASSERT_OK(file->Sync());
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  SIM_ASSERT_OK(file->Append("defgh"));
  EXPECT_EQ(fs.Crash(CrashVariant::kSizeBeforeData, 7).files.at("/d/f"),
            std::string("abc\0\0\0\0\0", 8));
}

// Builds the same busy state every time: several files, unsynced writes,
// pending creates, renames and removals.
void BusyState(SimFileSystem* fs) {
  SIM_ASSERT_OK(fs->CreateDir("/d"));
  SIM_ASSERT_OK(fs->SyncDir("/"));
  for (int i = 0; i < 6; ++i) {
    std::string name = "/d/f" + std::to_string(i);
    Write(fs, name, {std::string(700 + 300 * i, static_cast<char>('a' + i))}, i % 2 == 0);
    if (i == 2) SIM_ASSERT_OK(fs->SyncDir("/d"));
  }
  Write(fs, "/d/f0", {std::string(1500, 'z'), "tail"}, false);
  SIM_ASSERT_OK(fs->RenameFile("/d/f1", "/d/f4"));
  SIM_ASSERT_OK(fs->RemoveFile("/d/f2"));
}

TEST(SimFileSystemTest, CrashIsDeterministic) {
  SimFileSystem a;
  SimFileSystem b;
  BusyState(&a);
  BusyState(&b);
  const uint64_t base = BaseSeed();
  for (int v = 0; v < kNumCrashVariants; ++v) {
    auto variant = static_cast<CrashVariant>(v);
    for (uint64_t seed = base; seed < base + 20; ++seed) {
      Image x = a.Crash(variant, seed);
      EXPECT_EQ(x.files, a.Crash(variant, seed).files) << CrashVariantName(variant);
      EXPECT_EQ(x.files, b.Crash(variant, seed).files) << CrashVariantName(variant);
      EXPECT_EQ(x.dirs, b.Crash(variant, seed).dirs) << CrashVariantName(variant);
    }
  }
}

TEST(SimFileSystemTest, ImageReopensAsDurableState) {
  SimFileSystem fs;
  BusyState(&fs);
  Image image = fs.Crash(CrashVariant::kRandom, 5);
  SimFileSystem reopened(image);
  EXPECT_EQ(reopened.LiveImage().files, image.files);
  EXPECT_EQ(reopened.Crash(CrashVariant::kDropUnsynced, 1).files, image.files);
  EXPECT_EQ(reopened.Crash(CrashVariant::kDropUnsynced, 1).dirs, image.dirs);
}

// ---- Fault injection --------------------------------------------------------

TEST(SimFileSystemTest, FailNthOpenReadAndNamespaceOps) {
  SimFileSystem fs;
  Write(&fs, "f", {"data"}, true);
  std::unique_ptr<lightning::SequentialFile> file;
  fs.FailNth(OpKind::kOpen, 2, Fault::kEIO);
  SIM_ASSERT_OK(fs.NewSequentialFile("f", &file));
  Status s = fs.NewSequentialFile("f", &file);
  EXPECT_TRUE(s.IsIOError() && s.message().find("EIO") != std::string::npos) << s.ToString();
  SIM_ASSERT_OK(fs.NewSequentialFile("f", &file));  // fires once

  fs.FailNth(OpKind::kRead, 1, Fault::kENOSPC);
  char scratch[8];
  std::string_view result;
  s = file->Read(sizeof(scratch), scratch, &result);
  EXPECT_TRUE(s.IsIOError() && s.message().find("ENOSPC") != std::string::npos);

  fs.FailNth(OpKind::kRename, 1, Fault::kEIO);
  EXPECT_TRUE(fs.RenameFile("f", "g").IsIOError());
  EXPECT_TRUE(fs.FileExists("f"));
  fs.FailNth(OpKind::kRemove, 1, Fault::kEIO);
  EXPECT_TRUE(fs.RemoveFile("f").IsIOError());
  fs.FailNth(OpKind::kMkdir, 1, Fault::kENOSPC);
  EXPECT_TRUE(fs.CreateDir("/x").IsIOError());
  EXPECT_FALSE(fs.FileExists("/x"));
  fs.FailNth(OpKind::kSyncDir, 1, Fault::kEIO);
  EXPECT_TRUE(fs.SyncDir("").IsIOError());
  std::unique_ptr<lightning::FileLock> lock;
  fs.FailNth(OpKind::kLock, 1, Fault::kEIO);
  EXPECT_TRUE(fs.LockFile("LOCK", &lock).IsIOError());
  SIM_ASSERT_OK(fs.LockFile("LOCK", &lock));
}

TEST(SimFileSystemTest, FailedWritesAndShortWrites) {
  SimFileSystem fs;
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("f", &file));
  fs.FailNth(OpKind::kWrite, 1, Fault::kEIO);
  EXPECT_TRUE(file->Append("lost").IsIOError());
  EXPECT_EQ(Read(&fs, "f"), "");
  fs.FailNth(OpKind::kWrite, 1, Fault::kENOSPC);
  EXPECT_NE(file->Append("lost").message().find("ENOSPC"), std::string::npos);

  const std::string data = "0123456789abcdef";
  fs.FailNth(OpKind::kWrite, 1, Fault::kShortWrite);
  EXPECT_TRUE(file->Append(data).IsIOError());
  std::string got = Read(&fs, "f");
  EXPECT_LT(got.size(), data.size());
  EXPECT_EQ(got, data.substr(0, got.size()));
}

TEST(SimFileSystemTest, FailedSyncDropsPendingData) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("/d/f", &file));
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  SIM_ASSERT_OK(file->Append("durable"));
  SIM_ASSERT_OK(file->Sync());
  SIM_ASSERT_OK(file->Append("+pending"));
  fs.FailNth(OpKind::kSync, 1, Fault::kEIO);
  Status s = file->Sync();
  EXPECT_NE(s.message().find("EIO"), std::string::npos) << s.ToString();
  EXPECT_EQ(Read(&fs, "/d/f"), "durable");
  SIM_ASSERT_OK(file->Sync());  // a retry "succeeds", but the data is gone
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files.at("/d/f"), "durable");
}

TEST(SimFileSystemTest, CrashAfterFreezesEverything) {
  SimFileSystem fs;
  Write(&fs, "f", {"a"}, false);  // create, append: 2 mutating operations
  ASSERT_EQ(fs.mutating_ops(), 2u);
  fs.CrashAfter(2);
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.NewWritableFile("g", &file));
  EXPECT_FALSE(fs.crashed());
  SIM_ASSERT_OK(file->Append("b"));
  EXPECT_TRUE(fs.crashed());
  Image frozen = fs.LiveImage();

  Status s = file->Append("c");
  EXPECT_TRUE(s.IsIOError() && s.message().find("simulated crash") != std::string::npos);
  EXPECT_TRUE(file->Sync().IsIOError());
  EXPECT_TRUE(fs.RenameFile("f", "h").IsIOError());
  std::unique_ptr<lightning::SequentialFile> reader;
  EXPECT_TRUE(fs.NewSequentialFile("f", &reader).IsIOError());
  std::vector<std::string> names;
  EXPECT_TRUE(fs.GetChildren("", &names).IsIOError());
  EXPECT_EQ(fs.mutating_ops(), 4u);
  EXPECT_EQ(fs.LiveImage().files, frozen.files);
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files, frozen.files);
}

// ---- RandomRWFile: writes at offsets ------------------------------------------

// Reads [offset, offset + n) through `file`.
std::string ReadAt(const lightning::RandomRWFile& file, uint64_t offset, size_t n) {
  std::string scratch(n, '\0');
  std::string_view result;
  Status s = file.Read(offset, n, scratch.data(), &result);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::string(result);
}

// A durable page file /d/p of `sectors` sectors of 'o', open in *file.
void SyncedPageFile(SimFileSystem* fs, size_t sectors,
                    std::unique_ptr<lightning::RandomRWFile>* file) {
  SIM_ASSERT_OK(fs->NewRandomRWFile("/d/p", file));
  SIM_ASSERT_OK((*file)->Write(0, std::string(sectors * kSector, 'o')));
  SIM_ASSERT_OK((*file)->Sync());
  SIM_ASSERT_OK(fs->SyncDir("/d"));
}

TEST(SimFileSystemTest, RandomRWFileWritesAtOffsets) {
  SimFileSystem fs;
  std::unique_ptr<lightning::RandomRWFile> file;
  SIM_ASSERT_OK(fs.NewRandomRWFile("/d/p", &file));
  EXPECT_TRUE(fs.FileExists("/d/p"));
  EXPECT_EQ(file->View(1), nullptr);  // nothing to map: callers use Read
  SIM_ASSERT_OK(file->Write(1000, "tail"));
  SIM_ASSERT_OK(file->Write(0, "head"));
  SIM_ASSERT_OK(file->Write(1, "EA"));
  SIM_ASSERT_OK(file->Write(5000, ""));  // writes nothing, so it does not extend the file
  const std::string expected = "hEAd" + std::string(996, '\0') + "tail";
  EXPECT_EQ(Read(&fs, "/d/p"), expected);  // the gap reads as zeros
  EXPECT_EQ(ReadAt(*file, 0, 2000), expected);
  EXPECT_EQ(ReadAt(*file, 1002, 100), "il");  // short only at the end
  EXPECT_EQ(ReadAt(*file, 5000, 10), "");
  uint64_t size = 0;
  SIM_ASSERT_OK(fs.GetFileSize("/d/p", &size));
  EXPECT_EQ(size, expected.size());
  SIM_ASSERT_OK(file->Close());
}

TEST(SimFileSystemTest, NewRandomRWFileDoesNotTruncate) {
  SimFileSystem fs(DirImage());
  Write(&fs, "/d/p", {"written whole"}, true);
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  const uint64_t ops = fs.mutating_ops();
  std::unique_ptr<lightning::RandomRWFile> file;
  SIM_ASSERT_OK(fs.NewRandomRWFile("/d/p", &file));
  EXPECT_EQ(fs.mutating_ops(), ops);  // opening an existing file changes nothing
  EXPECT_EQ(ReadAt(*file, 0, 100), "written whole");
  SIM_ASSERT_OK(file->Write(0, "W"));
  SIM_ASSERT_OK(file->Close());
  file.reset();
  SIM_ASSERT_OK(fs.NewRandomRWFile("/d/p", &file));
  EXPECT_EQ(ReadAt(*file, 0, 100), "Written whole");
  // Nothing pending but the one-byte write: no truncate to lose the rest.
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/p"), "written whole");
  for (int v = 0; v < kNumCrashVariants; ++v) {
    const std::string content =
        fs.Crash(static_cast<CrashVariant>(v), 7).files.at("/d/p").substr(1);
    EXPECT_EQ(content, "ritten whole") << CrashVariantName(static_cast<CrashVariant>(v));
  }
}

TEST(SimFileSystemTest, RandomRWFileCreateNeedsDirectorySync) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  SIM_ASSERT_OK(fs.NewRandomRWFile("/d/p", &file));
  SIM_ASSERT_OK(file->Write(0, "page"));
  SIM_ASSERT_OK(file->Sync());
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.count("/d/p"), 0u);
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files.at("/d/p"), "page");
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/p"), "page");
}

// Sectors 1 and 2 of four synced sectors are overwritten, not synced.
TEST(SimFileSystemTest, OverwriteOfSyncedBytesIsOldOrNewPerSector) {
  constexpr size_t kSectors = 4;
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  SyncedPageFile(&fs, kSectors, &file);
  SIM_ASSERT_OK(file->Write(kSector, std::string(2 * kSector, 'n')));
  const std::string old_bytes(kSectors * kSector, 'o');
  const std::string new_bytes =
      std::string(kSector, 'o') + std::string(2 * kSector, 'n') + std::string(kSector, 'o');
  EXPECT_EQ(ReadAt(*file, 0, 4 * kSector), new_bytes);
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/p"), old_bytes);
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files.at("/d/p"), new_bytes);
  // It changes no size, so there is nothing to zero.
  EXPECT_EQ(fs.Crash(CrashVariant::kSizeBeforeData, 1).files.at("/d/p"), old_bytes);

  std::set<std::string> seen;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    const std::string content = fs.Crash(CrashVariant::kSectors, base + i).files.at("/d/p");
    ASSERT_EQ(content.size(), kSectors * kSector) << "seed " << base + i;
    ASSERT_EQ(SectorsOf(content, 'o') + SectorsOf(content, 'n'), kSectors) << "seed " << base + i;
    ASSERT_EQ(content.substr(0, kSector), std::string(kSector, 'o')) << "seed " << base + i;
    ASSERT_EQ(content.substr(3 * kSector), std::string(kSector, 'o')) << "seed " << base + i;
    seen.insert(content);
    const std::string prefix = fs.Crash(CrashVariant::kPrefix, base + i).files.at("/d/p");
    ASSERT_TRUE(prefix == old_bytes || prefix == new_bytes) << "seed " << base + i;
  }
  EXPECT_EQ(seen.size(), 4u) << "sectors 1 and 2 should each be seen old and new";
  EXPECT_TRUE(seen.count(old_bytes) && seen.count(new_bytes));

  SIM_ASSERT_OK(file->Sync());
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/p"), new_bytes);
  for (uint64_t i = 0; i < 20; ++i) {
    EXPECT_EQ(fs.Crash(CrashVariant::kSectors, base + i).files.at("/d/p"), new_bytes);
  }
}

// An overwrite that starts and ends inside sectors: each sector it touched is
// the old sector or the new one in full, never a mix of the two.
TEST(SimFileSystemTest, UnalignedOverwriteKeepsWholeSectors) {
  constexpr size_t kSectors = 4;
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  SyncedPageFile(&fs, kSectors, &file);
  SIM_ASSERT_OK(file->Write(300, std::string(1000, 'n')));  // sectors 0, 1 and 2
  const std::string old_bytes(kSectors * kSector, 'o');
  const std::string new_bytes = fs.LiveImage().files.at("/d/p");
  ASSERT_EQ(new_bytes.substr(300, 1000), std::string(1000, 'n'));
  std::vector<std::set<bool>> outcomes(kSectors);  // per sector: seen new?
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    const std::string content = fs.Crash(CrashVariant::kSectors, base + i).files.at("/d/p");
    ASSERT_EQ(content.size(), old_bytes.size()) << "seed " << base + i;
    for (size_t sector = 0; sector < kSectors; ++sector) {
      const std::string got = content.substr(sector * kSector, kSector);
      const bool is_old = got == old_bytes.substr(sector * kSector, kSector);
      const bool is_new = got == new_bytes.substr(sector * kSector, kSector);
      ASSERT_TRUE(is_old || is_new) << "seed " << base + i << ", sector " << sector;
      outcomes[sector].insert(is_new && !is_old);
    }
  }
  for (size_t sector = 0; sector < 3; ++sector) {
    EXPECT_EQ(outcomes[sector].size(), 2u) << "sector " << sector;
  }
  EXPECT_EQ(outcomes[3], std::set<bool>{false});  // untouched: always old
}

// An overwrite of sector 0 and a write that grows the file to sector 3, past
// a gap: kSectors keeps each sector old or new (the gap reads as zeros when
// sector 3 survives), and kSizeBeforeData zeros only bytes beyond the old size.
TEST(SimFileSystemTest, OverwriteAndGrowPastAGap) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  SyncedPageFile(&fs, 2, &file);
  SIM_ASSERT_OK(file->Write(0, "new"));
  SIM_ASSERT_OK(file->Write(3 * kSector, "grown"));
  const std::string old_bytes(2 * kSector, 'o');
  const std::string overwritten = "new" + old_bytes.substr(3);
  const std::string grown_tail = std::string(kSector, '\0') + "grown";
  ASSERT_EQ(fs.LiveImage().files.at("/d/p"), overwritten + grown_tail);
  EXPECT_EQ(fs.Crash(CrashVariant::kSizeBeforeData, 1).files.at("/d/p"),
            old_bytes + std::string(kSector + 5, '\0'));

  const std::set<std::string> allowed = {old_bytes, overwritten, old_bytes + grown_tail,
                                         overwritten + grown_tail};
  std::set<std::string> seen;
  const uint64_t base = BaseSeed();
  for (uint64_t i = 0; i < kSeedsPerTest; ++i) {
    const std::string content = fs.Crash(CrashVariant::kSectors, base + i).files.at("/d/p");
    ASSERT_EQ(allowed.count(content), 1u) << "seed " << base + i;
    seen.insert(content);
  }
  EXPECT_EQ(seen, allowed);
}

TEST(SimFileSystemTest, RandomRWFileFaults) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  fs.FailNth(OpKind::kOpen, 1, Fault::kEIO);
  EXPECT_TRUE(fs.NewRandomRWFile("/d/p", &file).IsIOError());
  EXPECT_FALSE(fs.FileExists("/d/p"));
  SyncedPageFile(&fs, 1, &file);
  const std::string synced(kSector, 'o');

  fs.FailNth(OpKind::kWrite, 1, Fault::kEIO);
  Status s = file->Write(10, "lost");
  EXPECT_TRUE(s.IsIOError() && s.message().find("EIO") != std::string::npos) << s.ToString();
  EXPECT_EQ(ReadAt(*file, 0, 2 * kSector), synced);
  fs.FailNth(OpKind::kWrite, 1, Fault::kENOSPC);
  s = file->Write(kSector, "lost");
  EXPECT_TRUE(s.IsIOError() && s.message().find("ENOSPC") != std::string::npos) << s.ToString();
  EXPECT_EQ(ReadAt(*file, 0, 2 * kSector), synced);

  const std::string data = "0123456789abcdef";
  fs.FailNth(OpKind::kWrite, 1, Fault::kShortWrite);
  EXPECT_TRUE(file->Write(100, data).IsIOError());
  // A prefix of the data landed at the offset; the bytes after it are old.
  const std::string got = ReadAt(*file, 0, 2 * kSector);
  size_t written = 0;
  while (written < data.size() && got[100 + written] == data[written]) ++written;
  EXPECT_LT(written, data.size());
  std::string expected = synced;
  expected.replace(100, written, data.substr(0, written));
  EXPECT_EQ(got, expected);

  fs.FailNth(OpKind::kRead, 1, Fault::kEIO);
  char scratch[8];
  std::string_view result;
  EXPECT_TRUE(file->Read(0, sizeof(scratch), scratch, &result).IsIOError());
}

TEST(SimFileSystemTest, FailedSyncDropsPendingOverwrites) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  SyncedPageFile(&fs, 2, &file);
  const std::string synced(2 * kSector, 'o');
  SIM_ASSERT_OK(file->Write(kSector / 2, std::string(kSector, 'n')));
  SIM_ASSERT_OK(file->Write(2 * kSector, "grown"));
  fs.FailNth(OpKind::kSync, 1, Fault::kEIO);
  Status s = file->Sync();
  EXPECT_TRUE(s.IsIOError() && s.message().find("EIO") != std::string::npos) << s.ToString();
  EXPECT_EQ(ReadAt(*file, 0, 4 * kSector), synced);
  SIM_ASSERT_OK(file->Sync());  // a retry "succeeds", but the writes are gone
  EXPECT_EQ(fs.Crash(CrashVariant::kKeepAll, 1).files.at("/d/p"), synced);

  // A device that lies about fsync: the Sync "succeeds" and persists nothing.
  fs.IgnoreSyncsOf("/p");
  SIM_ASSERT_OK(file->Write(0, "new"));
  SIM_ASSERT_OK(file->Sync());
  EXPECT_EQ(fs.Crash(CrashVariant::kDropUnsynced, 1).files.at("/d/p"), synced);
}

TEST(SimFileSystemTest, RandomRWFileStopsAtCrashAfter) {
  SimFileSystem fs(DirImage());
  std::unique_ptr<lightning::RandomRWFile> file;
  SIM_ASSERT_OK(fs.NewRandomRWFile("/d/p", &file));  // a create: one mutating operation
  EXPECT_EQ(fs.mutating_ops(), 1u);
  fs.CrashAfter(2);
  SIM_ASSERT_OK(file->Write(0, "one"));
  SIM_ASSERT_OK(file->Write(10, "two"));
  EXPECT_TRUE(fs.crashed());
  Status s = file->Write(0, "three");
  EXPECT_TRUE(s.IsIOError() && s.message().find("simulated crash") != std::string::npos);
  EXPECT_TRUE(file->Sync().IsIOError());
  char scratch[8];
  std::string_view result;
  EXPECT_TRUE(file->Read(0, sizeof(scratch), scratch, &result).IsIOError());
  EXPECT_EQ(fs.mutating_ops(), 3u);
  EXPECT_EQ(fs.LiveImage().files.at("/d/p"), std::string("one\0\0\0\0\0\0\0two", 13));
}

// ---- Observer -----------------------------------------------------------------

TEST(SimFileSystemTest, ObserverSeesEveryOperation) {
  SimFileSystem fs;
  std::vector<uint64_t> indexes;
  std::vector<Image> at_op;
  fs.SetObserver([&](uint64_t index, const SimFileSystem::CrashFn& crash) {
    indexes.push_back(index);
    at_op.push_back(crash(CrashVariant::kKeepAll, index));
  });
  std::vector<Image> live = {fs.LiveImage()};
  std::unique_ptr<lightning::WritableFile> file;
  SIM_ASSERT_OK(fs.CreateDir("/d"));
  live.push_back(fs.LiveImage());
  SIM_ASSERT_OK(fs.NewWritableFile("/d/f", &file));
  live.push_back(fs.LiveImage());
  for (const char* piece : {"x", "yy", "zzz"}) {
    SIM_ASSERT_OK(file->Append(piece));
    live.push_back(fs.LiveImage());
  }
  SIM_ASSERT_OK(file->Sync());
  live.push_back(fs.LiveImage());
  SIM_ASSERT_OK(fs.RenameFile("/d/f", "/d/g"));
  live.push_back(fs.LiveImage());
  SIM_ASSERT_OK(fs.SyncDir("/d"));
  live.push_back(fs.LiveImage());

  ASSERT_EQ(indexes.size(), live.size());
  for (uint64_t i = 0; i < indexes.size(); ++i) {
    EXPECT_EQ(indexes[i], i);
    EXPECT_EQ(at_op[i].files, live[i].files) << "op " << i;
    EXPECT_EQ(at_op[i].dirs, live[i].dirs) << "op " << i;
  }
  EXPECT_EQ(fs.mutating_ops(), indexes.size() - 1);
}

// ---- End to end ---------------------------------------------------------------

// A real database on the simulator, every write synced, loses nothing to a
// power loss. The database directory exists in the starting image (the
// engine's own creation of it, and its sync of "/", are mutant 10's business).
TEST(SimFileSystemTest, SyncedDatabaseWritesSurvivePowerLoss) {
  constexpr int kKeys = 300;
  Image start;
  start.dirs.insert("/db");
  SimFileSystem fs(start);
  lightning::Options options;
  options.fs = &fs;
  options.write_buffer_bytes = 4 << 10;  // flushes and new logs within a few hundred writes
  std::unique_ptr<lightning::DB> db;
  SIM_ASSERT_OK(lightning::DB::Open(options, "/db", &db));
  lightning::WriteOptions sync;
  sync.sync = true;
  for (int i = 0; i < kKeys; ++i) {
    SIM_ASSERT_OK(db->Put(sync, "key" + std::to_string(i), std::string(40, 'a' + i % 26)));
  }
  const uint64_t seed = BaseSeed();
  Image image = fs.Crash(CrashVariant::kDropUnsynced, seed);
  db.reset();

  SimFileSystem after(image);
  options.fs = &after;
  // Declared after `after`, which it uses, so that a failed assertion's early return destroys
  // it first.
  std::unique_ptr<lightning::DB> reopened;
  SIM_ASSERT_OK(lightning::DB::Open(options, "/db", &reopened));
  for (int i = 0; i < kKeys; ++i) {
    std::string value;
    SIM_ASSERT_OK(reopened->Get(lightning::ReadOptions(), "key" + std::to_string(i), &value));
    EXPECT_EQ(value, std::string(40, 'a' + i % 26));
  }
}

// Passes everything to a SimFileSystem, but holds the creation of table files until released:
// a flush then cannot finish, so the database keeps two logs.
class HeldTablesFileSystem final : public lightning::FileSystem {
 public:
  explicit HeldTablesFileSystem(SimFileSystem* sim) : sim_(sim) {}
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  Status NewWritableFile(const std::string& p,
                         std::unique_ptr<lightning::WritableFile>* f) override {
    if (p.ends_with(".sst")) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return released_; });
      return Status::IOError(p + ": held, then refused");
    }
    return sim_->NewWritableFile(p, f);
  }
  Status NewSequentialFile(const std::string& p,
                           std::unique_ptr<lightning::SequentialFile>* f) override {
    return sim_->NewSequentialFile(p, f);
  }
  Status NewRandomAccessFile(const std::string& p,
                             std::unique_ptr<lightning::RandomAccessFile>* f) override {
    return sim_->NewRandomAccessFile(p, f);
  }
  Status NewRandomRWFile(const std::string& p,
                         std::unique_ptr<lightning::RandomRWFile>* f) override {
    return sim_->NewRandomRWFile(p, f);
  }
  bool FileExists(const std::string& p) override { return sim_->FileExists(p); }
  Status GetChildren(const std::string& d, std::vector<std::string>* n) override {
    return sim_->GetChildren(d, n);
  }
  Status GetFileSize(const std::string& p, uint64_t* s) override { return sim_->GetFileSize(p, s); }
  Status RemoveFile(const std::string& p) override { return sim_->RemoveFile(p); }
  Status RenameFile(const std::string& a, const std::string& b) override {
    return sim_->RenameFile(a, b);
  }
  Status CreateDir(const std::string& d) override { return sim_->CreateDir(d); }
  Status RemoveDir(const std::string& d) override { return sim_->RemoveDir(d); }
  Status SyncDir(const std::string& d) override { return sim_->SyncDir(d); }
  Status LockFile(const std::string& p, std::unique_ptr<lightning::FileLock>* l) override {
    return sim_->LockFile(p, l);
  }

 private:
  SimFileSystem* const sim_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

// The write-ahead log keeps space reserved past its records (zeros). A crash while the full
// memtable's flush is still running leaves two logs: the older one ends in its reserved zeros,
// and replay must take them for its end and go on with the newer log, or the synced writes
// there are lost.
TEST(SimFileSystemTest, ReplayGoesPastTheReservedZerosOfAnOlderLog) {
  Image start;
  start.dirs.insert("/db");
  SimFileSystem fs(start);
  HeldTablesFileSystem held(&fs);
  lightning::Options options;
  options.fs = &held;
  options.write_buffer_bytes = 16 << 10;
  std::unique_ptr<lightning::DB> db;
  SIM_ASSERT_OK(lightning::DB::Open(options, "/db", &db));
  lightning::WriteOptions sync;
  sync.sync = true;
  // About 1.3 memtables: the first fills and waits for its (held) flush, the rest goes to a
  // second log, short of filling the second memtable (which would wait for the first flush).
  const int keys = static_cast<int>(options.write_buffer_bytes * 6 / 5 / 100);
  for (int i = 0; i < keys; ++i) {
    SIM_ASSERT_OK(db->Put(sync, "key" + std::to_string(i), std::string(60, 'a' + i % 26)));
  }
  std::vector<std::string> logs;
  for (const auto& [path, bytes] : fs.LiveImage().files) {
    if (path.ends_with(".log")) {
      logs.push_back(path);
      EXPECT_GE(bytes.size(), lightning::log::LogReserveBytes(options.write_buffer_bytes) / 2)
          << path << " has no reserve";
    }
  }
  ASSERT_EQ(logs.size(), 2u) << "the test needs a crash with two live logs";
  const Image image = fs.Crash(CrashVariant::kDropUnsynced, BaseSeed());
  held.Release();
  db.reset();

  SimFileSystem after(image);
  options.fs = &after;
  std::unique_ptr<lightning::DB> reopened;  // destroyed before `after`, which it uses
  SIM_ASSERT_OK(lightning::DB::Open(options, "/db", &reopened));
  int lost = 0;
  for (int i = 0; i < keys; ++i) {
    std::string value;
    const Status s = reopened->Get(lightning::ReadOptions(), "key" + std::to_string(i), &value);
    if (!s.ok() || value != std::string(60, 'a' + i % 26)) lost++;
  }
  EXPECT_EQ(lost, 0) << "of " << keys << " synced writes";
}

}  // namespace
}  // namespace crash_sim
