// Version edits and manifest replay.
#include "lightning/lsm/version_edit.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lightning/db.h"
#include "lightning/lsm/filename.h"
#include "lightning/lsm/table_cache.h"
#include "lightning/lsm/version_set.h"
#include "lightning/util/block_cache.h"

namespace lightning {
namespace {

FileMetaData File(uint64_t number, std::string_view lo, std::string_view hi) {
  FileMetaData f;
  f.number = number;
  f.file_bytes = number * 100;
  AppendInternalKey(&f.smallest, lo, 5, kTypeValue);
  AppendInternalKey(&f.largest, hi, 3, kTypeDeletion);
  return f;
}

TEST(VersionEditTest, EncodeDecodeRoundTrip) {
  VersionEdit edit;
  edit.SetLogNumber(7);
  edit.SetNextFileNumber(42);
  edit.SetLastSequence(1000);
  edit.AddFile(0, File(9, "a", "m"));
  edit.AddFile(3, File(10, "", "\xff\xff"));
  edit.RemoveFile(2, 4);
  std::string encoded;
  edit.EncodeTo(&encoded);
  VersionEdit decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded, "test").ok());
  std::string again;
  decoded.EncodeTo(&again);
  EXPECT_EQ(encoded, again);
  EXPECT_EQ(7u, *decoded.log_number_);
  ASSERT_EQ(2u, decoded.new_files_.size());
  EXPECT_EQ(3, decoded.new_files_[1].first);
  EXPECT_TRUE(decoded.deleted_files_.contains({2, 4}));
}

TEST(VersionEditTest, EveryTruncationOrBadTagIsCorruption) {
  VersionEdit edit;
  edit.SetLogNumber(7);
  edit.AddFile(1, File(9, "key", "zzz"));
  std::string encoded;
  edit.EncodeTo(&encoded);
  for (size_t n = 1; n < encoded.size(); n++) {
    VersionEdit decoded;
    Status s = decoded.DecodeFrom(std::string_view(encoded).substr(0, n), "MANIFEST-000001");
    // A cut may land on a field boundary (then what is left is a valid edit).
    if (!s.ok()) EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  }
  VersionEdit decoded;
  EXPECT_TRUE(decoded.DecodeFrom(std::string_view(encoded).substr(0, encoded.size() - 1), "M")
                  .IsCorruption());
  EXPECT_TRUE(decoded.DecodeFrom("\x63", "M").IsCorruption());          // unknown tag
  EXPECT_TRUE(decoded.DecodeFrom("\x04\x09\x01", "M").IsCorruption());  // level 9
}

class ManifestTest : public ::testing::Test {
 protected:
  ManifestTest() {
    dir_ = (std::filesystem::temp_directory_path() / ("manifest_test_" + std::to_string(getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.fs = FileSystem::Default();
  }
  ~ManifestTest() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  Options options_;
  BlockCache cache_{1 << 20};
  uint64_t last_file_ = 0;
};

// Edits applied through the manifest come back, in order, after a reopen, and
// a clean close's recorded length catches a cut manifest.
TEST_F(ManifestTest, ReplayRebuildsVersionAndDetectsCutAfterCleanClose) {
  TableCache tables(dir_, options_, &cache_);
  {
    VersionSet versions(dir_, options_, &tables);
    VersionEdit first;
    first.SetLogNumber(3);
    ASSERT_TRUE(versions.WriteNewManifest(&first, nullptr).ok());
    std::mutex mu;
    std::unique_lock<std::mutex> lock(mu);
    uint64_t previous = 0;
    for (int i = 0; i < 10; i++) {
      uint64_t n = versions.NewFileNumber();
      VersionEdit e;
      e.AddFile(1, File(n, "k" + std::to_string(i), "k" + std::to_string(i) + "z"));
      if (previous != 0) e.RemoveFile(1, previous);
      previous = last_file_ = n;
      versions.SetLastSequence(190);
      ASSERT_TRUE(versions.LogAndApply(&e, &lock).ok());
    }
    ASSERT_TRUE(versions.MarkCleanClose().ok());
  }
  VersionSet reopened(dir_, options_, &tables);
  ASSERT_TRUE(reopened.Recover().ok());
  ASSERT_EQ(1, reopened.current()->NumFiles(1));
  EXPECT_EQ(last_file_, reopened.current()->files(1)[0]->number);
  EXPECT_EQ(190u, reopened.last_sequence());
  EXPECT_EQ(3u, reopened.log_number());
  EXPECT_GT(reopened.NewFileNumber(), last_file_);  // never reused

  CurrentFile current;
  ASSERT_TRUE(ReadCurrentFile(options_.fs, dir_, &current).ok());
  ASSERT_GT(current.manifest_bytes, 0u);
  std::filesystem::resize_file(ManifestFileName(dir_, current.manifest_number),
                               current.manifest_bytes - 1);
  VersionSet damaged(dir_, options_, &tables);
  Status s = damaged.Recover();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST-"));
}

}  // namespace
}  // namespace lightning
