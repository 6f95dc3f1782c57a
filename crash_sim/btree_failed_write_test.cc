// A B+Tree write that fails part-way must leave readers the whole previous
// version. The B+Tree edits the pages of its open transaction in place
// (btree::TreeWriter), so a batch that fails after editing one of them has to
// put the old content back; this test fails a page read in the middle of such
// a batch and reads every key it touched.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>

#include "crash_sim/sim_file_system.h"
#include "lightning/db.h"

namespace crash_sim {
namespace {

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "key%06d", i);
  return buf;
}

std::string Value(int i) { return std::string(100, static_cast<char>('a' + i % 26)); }

TEST(BTreeFailedWriteTest, BatchFailingPartWayLeavesReadersTheWholeOldVersion) {
  SimFileSystem fs;
  lightning::Options options;
  options.fs = &fs;
  options.engine = lightning::Engine::kBTree;
  options.create_if_missing = true;
  options.block_cache_bytes = 0;  // every clean page is read from the file
  std::unique_ptr<lightning::DB> db;
  ASSERT_TRUE(lightning::DB::Open(options, "/db", &db).ok());
  constexpr int kKeys = 2000;  // dozens of leaves under one root
  for (int i = 0; i < kKeys; i++) ASSERT_TRUE(db->Put({}, Key(i), Value(i)).ok());
  ASSERT_TRUE(db->Flush().ok());  // every page durable and clean: read from the file

  // No read follows: the transaction stays open, and the first leaf and the
  // root are now its own pages (in memory).
  ASSERT_TRUE(db->Put({}, Key(10), "own").ok());
  // The batch edits the first leaf in place, then needs a leaf from the file,
  // whose read fails.
  fs.FailNth(OpKind::kRead, 1, Fault::kEIO);
  lightning::WriteBatch batch;
  batch.Put(Key(11), "new");  // one op in that leaf: the in-place edit
  batch.Put(Key(kKeys - 10), "new");
  lightning::Status s = db->Write({}, &batch);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();

  std::string value;
  ASSERT_TRUE(db->Get({}, Key(10), &value).ok());
  EXPECT_EQ(value, "own");
  for (int i : {11, kKeys - 10}) {
    s = db->Get({}, Key(i), &value);
    ASSERT_TRUE(s.ok()) << Key(i) << ": " << s.ToString();
    EXPECT_EQ(value, Value(i)) << Key(i) << ": the failed batch is partly visible";
  }
  std::unique_ptr<lightning::Iterator> it(db->NewIterator({}));
  int n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) n++;
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(n, kKeys);
  EXPECT_TRUE(db->Put({}, Key(1), "later").IsIOError());  // the error is sticky
}

}  // namespace
}  // namespace crash_sim
