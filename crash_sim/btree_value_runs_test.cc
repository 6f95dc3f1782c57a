// Large values in the B+Tree are written into the page file before the log
// record that names them (BTreeDB::PutLarge, ValueRunWriter), so recovery
// must check each named value: one that is bad was either unsynced when the
// power went (a torn tail: its write and every later one are dropped) or
// damaged after a sync (Corruption, never a silent loss). These tests build
// those states by hand; the crash explorer's btree-large-values workload
// walks every crash point.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "crash_sim/sim_file_system.h"
#include "lightning/db.h"

namespace crash_sim {
namespace {

constexpr size_t kLarge = 20 << 10;  // 6 overflow pages, written directly
constexpr uint64_t kPage = 4096;
constexpr uint64_t kFirstRunPage = 2;  // a new file: pages 0 and 1 are the metas

lightning::Options BTreeOptions(lightning::FileSystem* fs) {
  lightning::Options options;
  options.fs = fs;
  options.engine = lightning::Engine::kBTree;
  options.create_if_missing = true;
  return options;
}

std::string Large(char c) { return std::string(kLarge, c); }

std::string Get(lightning::DB* db, const std::string& key) {
  std::string value;
  lightning::Status s = db->Get({}, key, &value);
  return s.ok() ? value : s.IsNotFound() ? "(absent)" : s.ToString();
}

// The image a process crash leaves (every write kept), with the database
// still open: nothing a clean close would write.
Image ProcessCrash(SimFileSystem& fs) { return fs.LiveImage(); }

TEST(BTreeValueRunsTest, LargeValuesAreWrittenOnceAndSurviveAProcessCrash) {
  SimFileSystem fs;
  std::unique_ptr<lightning::DB> db;
  ASSERT_TRUE(lightning::DB::Open(BTreeOptions(&fs), "/db", &db).ok());
  for (int i = 0; i < 20; i++) {
    ASSERT_TRUE(db->Put({}, "k" + std::to_string(i), Large(static_cast<char>('a' + i))).ok());
  }
  // A batch that writes one key twice: the first value's run is never reached.
  lightning::WriteBatch batch;
  batch.Put("twice", Large('x'));
  batch.Put("small", "v");
  batch.Put("twice", Large('y'));
  ASSERT_TRUE(db->Write({}, &batch).ok());
  ASSERT_TRUE(db->Put({}, "k3", "replaced by a small value").ok());
  std::string log_bytes;
  ASSERT_TRUE(db->GetProperty("lightning.btree.log-bytes", &log_bytes));
  EXPECT_LT(std::stoull(log_bytes), 22 * 100u) << "the values went to the log";

  SimFileSystem reopened(ProcessCrash(fs));
  db.reset();
  std::unique_ptr<lightning::DB> db2;
  ASSERT_TRUE(lightning::DB::Open(BTreeOptions(&reopened), "/db", &db2).ok());
  for (int i = 0; i < 20; i++) {
    const std::string expected = i == 3 ? "replaced by a small value" : Large('a' + i);
    ASSERT_EQ(Get(db2.get(), "k" + std::to_string(i)), expected) << i;
  }
  EXPECT_EQ(Get(db2.get(), "twice"), Large('y'));
  EXPECT_EQ(Get(db2.get(), "small"), "v");
  // Every page is reachable once or free: the dropped and replaced runs too.
  lightning::Status s = db2->Check();
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(BTreeValueRunsTest, LostUnsyncedValueEndsTheLogLikeATornTail) {
  SimFileSystem fs;
  std::unique_ptr<lightning::DB> db;
  ASSERT_TRUE(lightning::DB::Open(BTreeOptions(&fs), "/db", &db).ok());
  ASSERT_TRUE(db->Put({}, "big", Large('b')).ok());  // its run: pages 2..7
  ASSERT_TRUE(db->Put({}, "after", "a").ok());
  // A power loss that kept both log records but not the value's pages.
  SimFileSystem reopened(ProcessCrash(fs));
  db.reset();
  std::unique_ptr<lightning::DB> db2;
  reopened.ZeroRange("/db/PAGES", kFirstRunPage * kPage, kLarge);
  lightning::Status s = lightning::DB::Open(BTreeOptions(&reopened), "/db", &db2);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Get(db2.get(), "big"), "(absent)");
  EXPECT_EQ(Get(db2.get(), "after"), "(absent)") << "a later write survived an earlier one";
  s = db2->Check();  // the run's pages are free again
  EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db2->Put({}, "big", Large('c')).ok());
  EXPECT_EQ(Get(db2.get(), "big"), Large('c'));
}

TEST(BTreeValueRunsTest, DamagedValueOfASyncedWriteIsCorruption) {
  for (bool sync_write : {true, false}) {
    SimFileSystem fs;
    std::unique_ptr<lightning::DB> db;
    ASSERT_TRUE(lightning::DB::Open(BTreeOptions(&fs), "/db", &db).ok());
    lightning::WriteOptions sync;
    sync.sync = sync_write;
    ASSERT_TRUE(db->Put(sync, "big", Large('b')).ok());
    if (!sync_write) {
      ASSERT_TRUE(db->Sync().ok());
    }
    ASSERT_TRUE(db->Put({}, "after", "a").ok());  // its record says the log was synced
    SimFileSystem reopened(ProcessCrash(fs));
    db.reset();
    std::unique_ptr<lightning::DB> db2;
    reopened.FlipBit("/db/PAGES", (kFirstRunPage + 3) * kPage + 100, 2);
    lightning::Status s = lightning::DB::Open(BTreeOptions(&reopened), "/db", &db2);
    ASSERT_TRUE(s.IsCorruption()) << (sync_write ? "sync write: " : "Sync(): ") << s.ToString();
    EXPECT_NE(s.message().find("/db/PAGES"), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace crash_sim
