// The B+Tree engine through the public API: a model beside it across
// checkpoints and reopens, the structural check after each, and the cases
// that stress splits, merges, root changes, overflow runs and page reuse.
#include "lightning/btree/btree_db.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "lightning/db/db_test_util.h"

namespace lightning {
namespace {

using dbtest::GetValue;
using dbtest::MatchesModel;
using dbtest::Model;
using dbtest::NumberedKey;
using dbtest::RandomBytes;
using dbtest::TempDir;

size_t CountOccurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) n++;
  return n;
}

class BTreeDBTest : public testing::Test {
 public:
  BTreeDBTest() {
    options_.engine = Engine::kBTree;
    options_.write_buffer_bytes = 64 << 10;  // a checkpoint every ~16 dirty pages
  }
  void Open() {
    db_.reset();
    LIGHTNING_ASSERT_OK(DB::Open(options_, dir_.path(), &db_));
  }
  uint64_t Property(const std::string& name) {
    std::string value;
    EXPECT_TRUE(db_->GetProperty("lightning.btree." + name, &value)) << name;
    return std::stoull(value);
  }
  // Flips one byte in the middle of page `id` of the closed database's page file.
  void DamagePage(uint64_t id) {
    std::fstream f(dir_.path() + "/PAGES", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(id * 4096 + 2000));
    f.put('\x5a');
  }
  void Put(const std::string& k, const std::string& v) {
    LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), k, v));
  }

  TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_F(BTreeDBTest, RandomOpsMatchModelAcrossCheckpointsAndReopens) {
  const uint32_t seed = dbtest::TestSeed();
  std::mt19937 rng(seed);
  Open();
  Model model;
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < 2000; i++) {
      WriteBatch batch;
      const int n = rng() % 8 == 0 ? 1 + rng() % 50 : 1;
      for (int j = 0; j < n; j++) {
        std::string key = NumberedKey(rng() % 4000);
        if (rng() % 50 == 0) key += std::string(rng() % 2 ? 600 : 3000, 'L');  // overflow keys
        if (rng() % 4 == 0) {
          batch.Delete(key);
          model.erase(key);
        } else {
          const size_t bytes = rng() % 100 == 0 ? 5000 + rng() % 20000 : rng() % 300;
          std::string value = RandomBytes(rng, bytes);
          batch.Put(key, value);
          model[key] = value;
        }
      }
      LIGHTNING_ASSERT_OK(db_->Write(WriteOptions(), &batch));
    }
    ASSERT_TRUE(MatchesModel(db_.get(), model)) << "round " << round << " seed " << seed;
    LIGHTNING_ASSERT_OK(db_->Check());
    if (round == 0) EXPECT_GT(Property("checkpoints"), 10u);
    if (round % 2 == 1) Open();  // a clean reopen
    ASSERT_TRUE(MatchesModel(db_.get(), model)) << "after reopen, round " << round;
  }
  EXPECT_GE(Property("height"), 2u);
}

// A checkpoint the write buffer triggers is written by a background thread
// while writes go on: the dirty pages stay within about twice the write
// buffer (a write that finds more waits for it), a write is readable as soon
// as it returns, and checkpoints keep finishing.
TEST_F(BTreeDBTest, BackgroundCheckpointsKeepDirtyPagesBounded) {
  const uint32_t seed = dbtest::TestSeed();
  std::mt19937 rng(seed);
  Open();
  Model model;
  const uint64_t buffer_pages = options_.write_buffer_bytes / 4096;
  uint64_t most_dirty = 0;
  for (int i = 0; i < 6000; i++) {
    const std::string key = NumberedKey(rng() % 20000);
    const std::string value = RandomBytes(rng, 50 + rng() % 200);
    Put(key, value);
    model[key] = value;
    if (i % 7 == 0) ASSERT_EQ(GetValue(db_.get(), key), value) << "seed " << seed;
    most_dirty = std::max(most_dirty, Property("dirty-pages"));
  }
  // One write dirties at most a root-to-leaf path plus the pages its splits add.
  EXPECT_LE(most_dirty, 2 * buffer_pages + 2 * Property("height") + 2) << "seed " << seed;
  EXPECT_GT(Property("checkpoints"), 20u);
  ASSERT_TRUE(MatchesModel(db_.get(), model)) << "seed " << seed;
  LIGHTNING_ASSERT_OK(db_->Check());
  Open();
  ASSERT_TRUE(MatchesModel(db_.get(), model)) << "after reopen, seed " << seed;
}

TEST_F(BTreeDBTest, AscendingInsertsFillLeavesCompletely) {
  Open();
  std::string value(100, 'v');
  for (int i = 0; i < 40000; i++) Put(NumberedKey(i), value);
  LIGHTNING_ASSERT_OK(db_->Check());
  // 40,000 cells of ~112 bytes: ~1,100 full leaves. Half-full splits would need ~2,200.
  const uint64_t pages = Property("pages") - Property("free-pages");
  EXPECT_LT(pages, 1300u) << "pages in use";
  EXPECT_EQ(40000u, Property("entries"));
}

TEST_F(BTreeDBTest, DeletingEverythingFreesEveryPage) {
  const uint32_t seed = dbtest::TestSeed();
  std::mt19937 rng(seed);
  options_.write_buffer_bytes = 256 << 10;
  Open();
  std::vector<int> keys(12000);
  for (int i = 0; i < 12000; i++) keys[i] = i;
  std::shuffle(keys.begin(), keys.end(), rng);
  for (int k : keys) Put(NumberedKey(k), RandomBytes(rng, rng() % 200));
  EXPECT_GE(Property("height"), 3u);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (size_t i = 0; i < keys.size(); i++) {
    LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), NumberedKey(keys[i])));
    if (i % 3000 == 0) LIGHTNING_ASSERT_OK(db_->Check());  // merges and root changes on the way
  }
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_EQ(0u, Property("entries"));
  EXPECT_EQ(0u, Property("height"));
  LIGHTNING_ASSERT_OK(db_->Check());  // every page is free (or holds the free list)
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  LIGHTNING_ASSERT_OK(it->status());
}

// Reads between writes and checkpoints leave no pin behind: a checkpoint that
// spends a transaction id on the meta's parity once left the last read
// version's pin entry (kept at zero readers while it was current) in place
// for good, and no page retired after it was ever reused again.
TEST_F(BTreeDBTest, ReadsBetweenCheckpointsDoNotHoldPagesForever) {
  Open();
  for (int i = 0; i < 500; i++) Put(NumberedKey(i), std::string(100, 'a'));
  LIGHTNING_ASSERT_OK(db_->Flush());
  const uint64_t pages = Property("pages");
  for (int round = 0; round < 300; round++) {
    Put(NumberedKey(round % 500), std::string(100, 'b' + round % 20));
    EXPECT_EQ(std::string(100, 'b' + round % 20), GetValue(db_.get(), NumberedKey(round % 500)));
    // Two transactions between checkpoints: each checkpoint's meta needs the
    // other parity, so it spends a transaction id (Pager::MetaTxnAfter).
    if (round % 2 == 1) LIGHTNING_ASSERT_OK(db_->Flush());
  }
  LIGHTNING_ASSERT_OK(db_->Check());
  EXPECT_LE(Property("pages"), pages + 16) << "retired pages are not being reused";
}

TEST_F(BTreeDBTest, PagesAreReusedOnceNoSnapshotReachesThem) {
  Open();
  Model model;
  for (int i = 0; i < 2000; i++) {
    Put(NumberedKey(i), "old" + std::to_string(i));
    model[NumberedKey(i)] = "old" + std::to_string(i);
  }
  const Snapshot* snapshot = db_->GetSnapshot();
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < 2000; i++) Put(NumberedKey(i), "new" + std::to_string(round));
  }
  ASSERT_TRUE(MatchesModel(db_.get(), model, snapshot));  // pinned pages were never reused
  const uint64_t pinned_pages = Property("pages");
  db_->ReleaseSnapshot(snapshot);
  LIGHTNING_ASSERT_OK(db_->Check());
  for (int round = 0; round < 10; round++) {
    for (int i = 0; i < 2000; i++) Put(NumberedKey(i), "again" + std::to_string(round));
  }
  LIGHTNING_ASSERT_OK(db_->Check());
  // Without the snapshot, freed pages are reused: the file stops growing.
  EXPECT_LE(Property("pages"), pinned_pages + 64);
  EXPECT_GT(Property("free-pages") + Property("retired-pages"), 0u);
}

TEST_F(BTreeDBTest, IteratorSeeksAndWalksBothWays) {
  Open();
  for (int i = 0; i < 5000; i += 2) Put(NumberedKey(i), std::to_string(i));
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  it->Seek(NumberedKey(1001));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(NumberedKey(1002), it->key());
  it->Prev();
  EXPECT_EQ(NumberedKey(1000), it->key());
  it->Seek(NumberedKey(4999));  // past the last key
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_EQ(NumberedKey(4998), it->key());
  int n = 0;
  for (it->SeekToLast(); it->Valid(); it->Prev()) n++;
  EXPECT_EQ(2500, n);
  LIGHTNING_ASSERT_OK(it->status());
  std::unique_ptr<Iterator> scan = db_->ScanPrefix(ReadOptions(), "k0012");
  n = 0;
  for (scan->SeekToFirst(); scan->Valid(); scan->Next()) n++;
  EXPECT_EQ(50, n);
}

TEST_F(BTreeDBTest, LargestKeyAndLargeValues) {
  Open();
  const std::string max_key(kMaxKeyBytes, 'K');
  const std::string big(16 << 20, 'B');
  Put(max_key, "max");
  Put("big", big);
  Put(max_key + "", "max2");
  LIGHTNING_ASSERT_OK(db_->Check());
  Open();
  EXPECT_EQ("max2", GetValue(db_.get(), max_key));
  EXPECT_EQ(big, GetValue(db_.get(), "big"));
  LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), "big"));
  LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), max_key));
  LIGHTNING_ASSERT_OK(db_->Check());
  EXPECT_EQ("NOT_FOUND", GetValue(db_.get(), "big"));
}

TEST_F(BTreeDBTest, EnginesRefuseEachOthersDirectories) {
  Open();
  Put("a", "1");
  db_.reset();
  Options lsm = options_;
  lsm.engine = Engine::kLsm;
  std::unique_ptr<DB> other;
  Status s = DB::Open(lsm, dir_.path(), &other);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  lsm.create_if_missing = false;  // the message names the engine that wrote it, here too
  s = DB::Open(lsm, dir_.path(), &other);
  EXPECT_NE(s.ToString().find("holds a B+Tree database"), std::string::npos) << s.ToString();
  lsm.create_if_missing = true;

  TempDir lsm_dir;
  LIGHTNING_ASSERT_OK(DB::Open(lsm, lsm_dir.path(), &other));
  LIGHTNING_ASSERT_OK(other->Put(WriteOptions(), "a", "1"));
  other.reset();
  s = DB::Open(options_, lsm_dir.path(), &other);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  Options btree = options_;
  btree.create_if_missing = false;
  s = DB::Open(btree, lsm_dir.path(), &other);
  EXPECT_NE(s.ToString().find("holds an LSM database"), std::string::npos) << s.ToString();
}

// The real file system without memory maps: the pager reads with pread
// through its bounded page cache, as it does on any file system that cannot map.
class UnmappedFileSystem : public dbtest::ForwardingFileSystem {
 public:
  Status NewRandomRWFile(const std::string& p, std::unique_ptr<RandomRWFile>* f) override {
    std::unique_ptr<RandomRWFile> file;
    Status s = FileSystem::Default()->NewRandomRWFile(p, &file);
    if (s.ok()) *f = std::make_unique<NoView>(std::move(file));
    return s;
  }

 private:
  class NoView : public RandomRWFile {
   public:
    explicit NoView(std::unique_ptr<RandomRWFile> file) : file_(std::move(file)) {}
    Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* r) const override {
      return file_->Read(offset, n, scratch, r);
    }
    Status Write(uint64_t offset, std::string_view data) override {
      return file_->Write(offset, data);
    }
    Status Sync() override { return file_->Sync(); }
    Status Close() override { return file_->Close(); }

   private:
    std::unique_ptr<RandomRWFile> file_;
  };
};

// Bit rot that appears while the database is open: Check() reads every page
// from the file again and verifies it, also the pages this process verified
// before (through the memory map, or into the page cache without one).
void ExpectCheckFindsDamageThatAppearsWhileOpen(BTreeDBTest* t) {
  t->Open();
  for (int i = 0; i < 3000; i++) t->Put(NumberedKey(i), std::string(100, 'v'));
  LIGHTNING_ASSERT_OK(t->db_->Flush());  // a checkpoint: every page is in the file
  LIGHTNING_ASSERT_OK(t->db_->Check());  // every page read and verified once
  t->DamagePage(5);                      // behind the open database's back
  Status s = t->db_->Check();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_F(BTreeDBTest, CheckFindsDamageThatAppearsWhileOpenMapped) {
  ExpectCheckFindsDamageThatAppearsWhileOpen(this);
}

TEST_F(BTreeDBTest, CheckFindsDamageThatAppearsWhileOpenCached) {
  UnmappedFileSystem fs;
  options_.fs = &fs;
  options_.block_cache_bytes = 64 << 20;  // every page stays cached
  ExpectCheckFindsDamageThatAppearsWhileOpen(this);
  db_.reset();
}

TEST_F(BTreeDBTest, PageCacheServesReadsWithoutAMemoryMap) {
  UnmappedFileSystem fs;
  options_.fs = &fs;
  options_.block_cache_bytes = 64 << 10;  // 16 pages: far less than the tree
  Open();
  EXPECT_EQ(0u, Property("page-reads-mapped"));
  Model model;
  std::mt19937 rng(dbtest::TestSeed());
  for (int i = 0; i < 4000; i++) {
    const std::string k = NumberedKey(rng() % 3000), v = RandomBytes(rng, rng() % 200);
    Put(k, v);
    model[k] = v;
  }
  db_.reset();  // a clean close checkpoints: every page is in the file now
  Open();
  for (int i = 0; i < 2000; i++) {  // a hot set of 20 keys, then the rest
    const std::string k = NumberedKey(i < 1000 ? rng() % 20 : rng() % 3000);
    auto it = model.find(k);
    EXPECT_EQ(it == model.end() ? "NOT_FOUND" : it->second, GetValue(db_.get(), k)) << k;
  }
  EXPECT_TRUE(MatchesModel(db_.get(), model));
  LIGHTNING_EXPECT_OK(db_->Check());
  EXPECT_GT(Property("cache-hits"), 0u);
  EXPECT_GT(Property("cache-misses"), 0u);
  std::string rate;
  ASSERT_TRUE(db_->GetProperty("lightning.btree.cache-hit-rate", &rate));
  EXPECT_GT(std::stod(rate), 0.0);
  EXPECT_LT(std::stod(rate), 1.0);

  // A damaged page is caught through the cache path too, on its first read.
  // (The keys are random, so which pages are live is not known: damage them all.)
  db_.reset();
  const uint64_t pages = std::filesystem::file_size(dir_.path() + "/PAGES") / 4096;
  for (uint64_t id = 2; id < pages; id++) DamagePage(id);
  Status s = DB::Open(options_, dir_.path(), &db_);  // the free list is read here
  if (s.ok()) s = db_->Check();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(1u, CountOccurrences(s.ToString(), "/PAGES")) << s.ToString();
}

// Without a memory map, ReadOptions::fill_cache decides whether a page read
// with pread stays in the page cache, and verify_checksums whether it is
// checked; the cache holds only verified pages, so a read that fills it
// verifies even when verify_checksums is false.
TEST_F(BTreeDBTest, ReadOptionsDecideWhatThePageCacheKeepsAndVerifies) {
  UnmappedFileSystem fs;
  options_.fs = &fs;
  Open();
  for (int i = 0; i < 10; i++) Put(NumberedKey(i), std::string(300, 'v'));  // one leaf
  db_.reset();
  Open();
  ReadOptions no_fill;
  no_fill.fill_cache = false;
  std::string value;
  for (int i = 0; i < 5; i++) LIGHTNING_ASSERT_OK(db_->Get(no_fill, NumberedKey(3), &value));
  EXPECT_EQ(0u, Property("cache-hits")) << "a read with fill_cache=false filled the cache";
  for (int i = 0; i < 2; i++) LIGHTNING_ASSERT_OK(db_->Get(ReadOptions(), NumberedKey(3), &value));
  EXPECT_EQ(1u, Property("cache-hits"));

  // Damage a value byte of the leaf (the tree's only node page, the root).
  const uint64_t root = Property("root");
  db_.reset();
  std::fstream f(dir_.path() + "/PAGES", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(root * 4096 + 3000));  // in the last cells' values
  f.put('w');
  f.close();
  Open();
  ReadOptions unchecked = no_fill;
  unchecked.verify_checksums = false;
  std::unique_ptr<Iterator> it(db_->NewIterator(unchecked));
  int damaged = 0, n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), n++) {
    damaged += it->value() != std::string(300, 'v');
  }
  LIGHTNING_EXPECT_OK(it->status());
  EXPECT_EQ(10, n);
  EXPECT_EQ(1, damaged) << "verify_checksums=false, fill_cache=false returns the bytes as stored";
  it.reset();
  ReadOptions fills_cache;
  fills_cache.verify_checksums = false;
  EXPECT_TRUE(db_->Get(fills_cache, NumberedKey(0), &value).IsCorruption());
  EXPECT_TRUE(db_->Get(ReadOptions(), NumberedKey(0), &value).IsCorruption());
}

TEST_F(BTreeDBTest, DamagedPageIsCorruptionNamingThePageFile) {
  Open();
  for (int i = 0; i < 3000; i++) Put(NumberedKey(i), std::string(100, 'v'));
  db_.reset();  // a clean close checkpoints
  DamagePage(5);
  Open();
  Status s = db_->Check();
  ASSERT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("PAGES")) << s.ToString();
}

// Bit rot in the newest meta page after a clean close: every damaged byte of
// its fields is caught (the older meta would silently lose the newer
// checkpoint's writes, so it is refused too); nothing opens with a wrong state.
TEST_F(BTreeDBTest, DamagedMetaPageIsCorruption) {
  Open();
  for (int i = 0; i < 300; i++) Put(NumberedKey(i), std::string(100, 'v'));
  LIGHTNING_ASSERT_OK(db_->Flush());
  for (int i = 300; i < 600; i++) Put(NumberedKey(i), std::string(100, 'w'));
  db_.reset();  // a clean close: a second checkpoint
  std::string pages;
  {
    std::ifstream f(dir_.path() + "/PAGES", std::ios::binary);
    pages.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  ASSERT_GE(pages.size(), 2u * 4096);
  // The newest meta: the one with the larger transaction id (header bytes 16..23).
  auto txn = [&pages](int id) {
    uint64_t v = 0;
    std::memcpy(&v, pages.data() + id * 4096 + 16, 8);
    return v;
  };
  const int newest = txn(1) > txn(0) ? 1 : 0;
  // Each trial damages a copy of the database: an open that wrongly succeeds
  // checkpoints, which must not spoil the next trial.
  for (size_t offset = 24; offset < 24 + 68; offset++) {
    TempDir trial;
    std::filesystem::copy(dir_.path(), trial.path(),
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
    std::string damaged = pages;
    damaged[newest * 4096 + offset] ^= 0x10;
    {
      std::ofstream f(trial.path() + "/PAGES", std::ios::binary | std::ios::trunc);
      f.write(damaged.data(), static_cast<std::streamsize>(damaged.size()));
    }
    std::unique_ptr<DB> db;
    Status s = DB::Open(options_, trial.path(), &db);
    if (s.ok()) s = db->Check();
    EXPECT_TRUE(s.IsCorruption()) << "byte " << offset << ": " << s.ToString();
  }
  Open();
  ASSERT_NE(nullptr, db_);
  for (int i = 0; i < 600; i++) {
    ASSERT_EQ(std::string(100, i < 300 ? 'v' : 'w'), GetValue(db_.get(), NumberedKey(i)));
  }
}

TEST_F(BTreeDBTest, WritesSurviveReopenWithoutCleanClose) {
  Open();
  Model model;
  for (int i = 0; i < 500; i++) {
    Put(NumberedKey(i), std::to_string(i));
    model[NumberedKey(i)] = std::to_string(i);
  }
  // Abandon the handle without Close: what the log holds is replayed.
  DB* leaked = db_.release();
  (void)leaked;  // the lock stays held by the leaked handle, so copy the files
  TempDir copy;
  std::filesystem::copy(
      dir_.path(), copy.path(),
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(copy.path() + "/LOCK");
  std::unique_ptr<DB> reopened;
  LIGHTNING_ASSERT_OK(DB::Open(options_, copy.path(), &reopened));
  EXPECT_TRUE(MatchesModel(reopened.get(), model));
  LIGHTNING_ASSERT_OK(reopened->Check());
  delete leaked;
}

}  // namespace
}  // namespace lightning
