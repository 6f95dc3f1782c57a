// Regression tests: each reproduces a bug once found in the engine (by review,
// the crash explorer, a fuzzer or the model test), so that it stays fixed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "lightning/db.h"
#include "lightning/db/db_test_util.h"

namespace lightning {
namespace {

using dbtest::TempDir;

// A regression test that needs only the public API runs on each engine, whichever engine had the
// bug; one that reads an engine's levels or files is named DBRegressionLsmTest.
class DBRegressionTest : public testing::TestWithParam<Engine> {};

std::string FilesAtLevel(DB* db, int level) {
  std::string v;
  EXPECT_TRUE(db->GetProperty("lightning.num-files-at-level" + std::to_string(level), &v));
  return v;
}

// Waits until background compaction has emptied level 0 (or 5 s pass).
void SettleLevel0(DB* db) {
  for (int i = 0; i < 500 && FilesAtLevel(db, 0) != "0"; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Found by review: compaction computed its key range with "" as "no range
// yet", so a file whose only key is the empty key lost its lower bound; a
// manual compaction then missed the next level's older value for "" and
// dropped the tombstone above it, and the deleted key came back.
TEST(DBRegressionLsmTest, EmptyKeyTombstoneSurvivesCompactAll) {
  TempDir dir;
  Options o;
  o.write_buffer_bytes = 4096;
  o.max_level1_bytes = 4096;
  o.target_file_bytes = 4096;
  o.level0_compaction_trigger = 1;
  o.compression = Compression::kNone;
  std::unique_ptr<DB> db;
  LIGHTNING_ASSERT_OK(DB::Open(o, dir.path(), &db));
  WriteOptions w;
  LIGHTNING_ASSERT_OK(db->Put(w, "", "old"));
  LIGHTNING_ASSERT_OK(db->Put(w, "a", std::string(8000, 'v')));
  LIGHTNING_ASSERT_OK(db->Flush());
  SettleLevel0(db.get());
  LIGHTNING_ASSERT_OK(db->Delete(w, ""));
  LIGHTNING_ASSERT_OK(db->Flush());
  SettleLevel0(db.get());
  LIGHTNING_ASSERT_OK(db->Put(w, "b", "x"));
  LIGHTNING_ASSERT_OK(db->Flush());
  SettleLevel0(db.get());
  std::string v;
  ASSERT_TRUE(db->Get(ReadOptions(), "", &v).IsNotFound());
  LIGHTNING_ASSERT_OK(db->CompactAll());
  Status s = db->Get(ReadOptions(), "", &v);
  EXPECT_TRUE(s.IsNotFound()) << "deleted empty key came back as '" << v << "'";
  LIGHTNING_EXPECT_OK(db->Check());
}

// A FileSystem that makes the N-th manifest fsync slow and then fail after
// dropping the unsynced bytes (Linux drops dirty pages on writeback error).
class FailingManifestSyncFs final : public dbtest::ForwardingFileSystem {
 public:
  std::atomic<int> countdown{0};

  Status NewWritableFile(const std::string& p, std::unique_ptr<WritableFile>* f) override {
    std::unique_ptr<WritableFile> base;
    Status s = FileSystem::Default()->NewWritableFile(p, &base);
    if (!s.ok()) return s;
    bool manifest = p.find("MANIFEST") != std::string::npos;
    *f = std::make_unique<File>(this, std::move(base), manifest ? p : "");
    return s;
  }

 private:
  class File final : public WritableFile {
   public:
    File(FailingManifestSyncFs* fs, std::unique_ptr<WritableFile> base, std::string manifest)
        : fs_(fs), base_(std::move(base)), manifest_(std::move(manifest)) {}
    Status Append(std::string_view d) override {
      Status s = base_->Append(d);
      if (s.ok()) size_ += d.size();
      return s;
    }
    Status Sync() override {
      if (!manifest_.empty() && fs_->countdown.load() > 0 && --fs_->countdown == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        EXPECT_EQ(0, ::truncate(manifest_.c_str(), static_cast<off_t>(synced_)));
        return Status::IOError(manifest_ + ": injected fsync failure");
      }
      Status s = base_->Sync();
      if (s.ok()) synced_ = size_;
      return s;
    }
    Status Close() override { return base_->Close(); }

   private:
    FailingManifestSyncFs* fs_;
    std::unique_ptr<WritableFile> base_;
    std::string manifest_;
    uint64_t size_ = 0, synced_ = 0;
  };
};

// Found by review: a manifest fsync that failed while Close() was shutting
// the background thread down was ignored; Close then recorded a clean close
// with the failed record's length, and the next Open refused the database.
TEST(DBRegressionLsmTest, ManifestSyncFailureDuringCloseIsReportedAndReopenWorks) {
  TempDir dir;
  FailingManifestSyncFs fs;
  Options o;
  o.fs = &fs;
  o.write_buffer_bytes = 1 << 20;
  std::unique_ptr<DB> db;
  LIGHTNING_ASSERT_OK(DB::Open(o, dir.path(), &db));
  WriteOptions w;
  for (int f = 0; f < 4; f++) {
    for (int i = 0; i < 50; i++) {
      LIGHTNING_ASSERT_OK(db->Put(w, "k" + std::to_string(i), "v" + std::to_string(f)));
    }
    if (f == 3) fs.countdown = 2;  // the compaction's manifest edit, after this flush's
    LIGHTNING_ASSERT_OK(db->Flush());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  Status closed = db->Close();
  db.reset();
  if (fs.countdown.load() == 0) {
    EXPECT_TRUE(closed.IsIOError()) << closed.ToString();  // the failure is reported
  }
  Options plain;
  LIGHTNING_ASSERT_OK(DB::Open(plain, dir.path(), &db));  // and the database opens
  std::string v;
  LIGHTNING_ASSERT_OK(db->Get(ReadOptions(), "k7", &v));
  EXPECT_EQ("v3", v);
}

// Found by the crash explorer: Close() while a background compaction ran
// stored the compaction's deliberate "shutting down" abort as a sticky error,
// so a clean close returned IOError and was not recorded as clean.
TEST_P(DBRegressionTest, CloseDuringCompactionIsClean) {
  for (int round = 0; round < 5; round++) {
    TempDir dir;
    Options o = dbtest::SmallOptions(GetParam());
    o.level0_compaction_trigger = 2;
    std::unique_ptr<DB> db;
    LIGHTNING_ASSERT_OK(DB::Open(o, dir.path(), &db));
    for (int i = 0; i < 3000; i++) {
      LIGHTNING_ASSERT_OK(
          db->Put(WriteOptions(), dbtest::NumberedKey(i * 7919 % 3000), std::string(100, 'x')));
    }
    LIGHTNING_ASSERT_OK(db->Close());
    LIGHTNING_ASSERT_OK(DB::Open(o, dir.path(), &db));
    LIGHTNING_ASSERT_OK(db->Check());
  }
}

// A FileSystem whose directory listing takes a few milliseconds: long enough
// for the other background thread to create a table meanwhile.
class SlowListingFs final : public dbtest::ForwardingFileSystem {
 public:
  Status GetChildren(const std::string& d, std::vector<std::string>* n) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    return FileSystem::Default()->GetChildren(d, n);
  }
};

// Found by the crash simulator when flushes got a thread of their own: one
// background thread removed obsolete files from a listing that included a
// table the other had just created (not yet in any version, and numbered
// after the removal's snapshot of live files), and a reopen then missed a
// table the manifest named. Random batches keep both threads busy.
TEST_P(DBRegressionTest, TablesCreatedDuringObsoleteFileRemovalSurvive) {
  const uint32_t seed = dbtest::TestSeed();
  TempDir dir;
  SlowListingFs fs;
  Options o = dbtest::SmallOptions(GetParam());
  o.fs = &fs;
  std::unique_ptr<DB> db;
  LIGHTNING_ASSERT_OK(DB::Open(o, dir.path(), &db));
  std::mt19937 rng(seed);
  dbtest::Model model;
  for (int batch_index = 0; batch_index < 300; batch_index++) {
    WriteBatch batch;
    for (int i = 0; i < 50; i++) {
      const std::string key = dbtest::NumberedKey(rng() % 20000, "k");
      const std::string value = "v" + std::to_string(batch_index) + std::string(rng() % 120, 'x');
      batch.Put(key, value);
      model[key] = value;
    }
    LIGHTNING_ASSERT_OK(db->Write(WriteOptions(), &batch));
  }
  for (int round = 0; round < 2; round++) {
    SCOPED_TRACE(round == 0 ? "before reopen" : "after reopen");
    LIGHTNING_ASSERT_OK(db->Check());
    for (const auto& [key, value] : model) ASSERT_EQ(value, dbtest::GetValue(db.get(), key));
    db.reset();
    LIGHTNING_ASSERT_OK(DB::Open(o, dir.path(), &db));
  }
}

INSTANTIATE_TEST_SUITE_P(, DBRegressionTest, dbtest::AllEngines(), dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
