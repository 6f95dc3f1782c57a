// Integration tests of reopening through the public API: data in the memtable, in level 0 and in
// deeper levels (or in the B+Tree's log and pages) comes back, deletes stay deleted, synced writes
// survive the loss of everything unsynced, and damaged files give Corruption naming the file,
// never a wrong value. The damage tests know each engine's files, so they are engine-specific.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "lightning/btree/page.h"
#include "lightning/db.h"
#include "lightning/db/db_test_util.h"
#include "lightning/wal/log_reader.h"

namespace lightning {
namespace {

using dbtest::Model;

// Forwards to the POSIX file system while recording how many bytes of each file were synced.
// Crash() then makes every later change fail, as if the process had died, and DropUnsyncedData()
// cuts each file back to its synced length, as a power loss may. Directory entries are kept.
class CrashingFileSystem : public dbtest::ForwardingFileSystem {
 public:
  void Crash() { crashed_ = true; }
  // REQUIRES: the DB using this file system is destroyed.
  void DropUnsyncedData() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [path, synced_bytes] : synced_bytes_) {
      std::error_code ignored;
      if (std::filesystem::file_size(path, ignored) > synced_bytes) {
        std::filesystem::resize_file(path, synced_bytes, ignored);
      }
    }
  }

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    if (crashed_) return Status::IOError(path + ": crashed");
    std::unique_ptr<WritableFile> base_file;
    Status s = base_->NewWritableFile(path, &base_file);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    synced_bytes_[path] = 0;
    *file = std::make_unique<TrackedFile>(this, path, std::move(base_file));
    return Status::OK();
  }
  Status RemoveFile(const std::string& path) override {
    if (crashed_) return Status::IOError(path + ": crashed");
    std::lock_guard<std::mutex> lock(mu_);
    synced_bytes_.erase(path);
    return base_->RemoveFile(path);
  }
  Status RenameFile(const std::string& from, const std::string& to) override {
    if (crashed_) return Status::IOError(from + ": crashed");
    std::lock_guard<std::mutex> lock(mu_);
    Status s = base_->RenameFile(from, to);
    if (!s.ok()) return s;
    auto it = synced_bytes_.find(from);
    if (it == synced_bytes_.end()) {
      synced_bytes_.erase(to);
    } else {
      synced_bytes_[to] = it->second;
      synced_bytes_.erase(from);
    }
    return s;
  }
  Status CreateDir(const std::string& dir) override {
    if (crashed_) return Status::IOError(dir + ": crashed");
    return base_->CreateDir(dir);
  }
  Status RemoveDir(const std::string& dir) override {
    if (crashed_) return Status::IOError(dir + ": crashed");
    return base_->RemoveDir(dir);
  }
  Status SyncDir(const std::string& dir) override {
    if (crashed_) return Status::IOError(dir + ": crashed");
    return base_->SyncDir(dir);
  }

 private:
  class TrackedFile : public WritableFile {
   public:
    TrackedFile(CrashingFileSystem* fs, std::string path, std::unique_ptr<WritableFile> base)
        : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}
    Status Append(std::string_view data) override {
      if (fs_->crashed_) return Status::IOError(path_ + ": crashed");
      Status s = base_->Append(data);
      if (s.ok()) bytes_ += data.size();
      return s;
    }
    Status Sync() override {
      if (fs_->crashed_) return Status::IOError(path_ + ": crashed");
      Status s = base_->Sync();
      std::lock_guard<std::mutex> lock(fs_->mu_);
      auto it = fs_->synced_bytes_.find(path_);
      if (s.ok() && it != fs_->synced_bytes_.end()) it->second = bytes_;
      return s;
    }
    Status Close() override { return base_->Close(); }

   private:
    CrashingFileSystem* const fs_;
    const std::string path_;
    const std::unique_ptr<WritableFile> base_;
    uint64_t bytes_ = 0;
  };

  FileSystem* const base_ = FileSystem::Default();
  std::atomic<bool> crashed_{false};
  std::mutex mu_;
  std::map<std::string, uint64_t> synced_bytes_;  // guarded by mu_
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// XORs `bytes` bytes of the file at `offset` with 0x5a.
::testing::AssertionResult FlipBytes(const std::string& path, uint64_t offset, size_t bytes) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::string data(bytes, '\0');
  file.seekg(static_cast<std::streamoff>(offset));
  file.read(data.data(), static_cast<std::streamsize>(data.size()));
  for (char& c : data) c ^= 0x5a;
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (file.good()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "could not damage " << path << " at " << offset;
}

// The state of every reopen test: DBReopenTest runs on each engine; DBReopenLsmTest and
// DBReopenBTreeTest know one engine's files.
class DBReopenFixture : public testing::Test {
 protected:
  explicit DBReopenFixture(Engine engine) : options_(dbtest::SmallOptions(engine)) {}

  void Open() { LIGHTNING_ASSERT_OK(DB::Open(options_, dir_.path(), &db_)); }
  void Reopen() {
    db_.reset();
    Open();
  }
  void Put(const std::string& key, const std::string& value) {
    LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, value));
    model_[key] = value;
  }
  void Delete(const std::string& key) {
    LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), key));
    model_.erase(key);
  }
  // Automatic compaction runs in the background: give it a few seconds to move data down.
  int WaitForFilesBeyondLevel0() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int files = dbtest::FilesBeyondLevel0(db_.get());
    while (files == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      files = dbtest::FilesBeyondLevel0(db_.get());
    }
    return files;
  }

  // After damage to the file `name` (which holds part of model_): Open, or the read that meets the
  // damage, says Corruption naming the file; no read returns a wrong value or drops a key
  // silently, and Check finds the damage. REQUIRES: db_ is closed.
  void ExpectDamageReported(const std::string& name) {
    auto names_file = [&](const Status& s) {
      return s.IsCorruption() && s.ToString().find(name) != std::string::npos;
    };
    Status s = DB::Open(options_, dir_.path(), &db_);
    if (!s.ok()) {
      EXPECT_TRUE(names_file(s)) << s.ToString();
      return;
    }
    bool detected = false;
    for (const auto& [key, value] : model_) {
      std::string got;
      s = db_->Get(ReadOptions(), key, &got);
      if (s.ok()) {
        ASSERT_TRUE(got == value) << "wrong value for " << key;
      } else {
        ASSERT_TRUE(names_file(s)) << key << ": " << s.ToString();
        detected = true;
      }
    }
    EXPECT_TRUE(detected) << "no Get met the damage in " << name;

    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    size_t entries = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), entries++) {
      auto pos = model_.find(std::string(it->key()));
      ASSERT_TRUE(pos != model_.end()) << "iterator made up " << dbtest::Printable(it->key());
      ASSERT_TRUE(pos->second == it->value()) << "wrong value for " << pos->first;
    }
    if (it->status().ok()) {
      ADD_FAILURE() << "iteration saw " << entries << " of " << model_.size()
                    << " entries and reported no error";
    } else {
      EXPECT_TRUE(names_file(it->status())) << it->status().ToString();
    }
    s = db_->Check();
    EXPECT_TRUE(names_file(s)) << s.ToString();
  }

  dbtest::TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
  Model model_;
};

class DBReopenTest : public DBReopenFixture, public testing::WithParamInterface<Engine> {
 protected:
  DBReopenTest() : DBReopenFixture(GetParam()) {}
};

// Tests of the LSM's levels, table files, manifest, CURRENT and buffered log.
class DBReopenLsmTest : public DBReopenFixture {
 protected:
  DBReopenLsmTest() : DBReopenFixture(Engine::kLsm) {}
};

// Tests of the B+Tree's page file (btree/page.h).
class DBReopenBTreeTest : public DBReopenFixture {
 protected:
  DBReopenBTreeTest() : DBReopenFixture(Engine::kBTree) {}
  std::string PagesPath() const { return dir_.path() + "/PAGES"; }
};

TEST_P(DBReopenTest, MemtableOnly) {
  Open();
  Put("a", "1");
  Put("b", "2");
  Put("c", "3");
  Delete("b");
  LIGHTNING_ASSERT_OK(db_->Close());
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  Put("d", "4");
  Delete("a");
  Reopen();  // the destructor alone closes cleanly
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

TEST_P(DBReopenTest, AfterFlush) {
  Open();
  for (int i = 0; i < 100; i++) Put(dbtest::NumberedKey(i), "value" + std::to_string(i));
  LIGHTNING_ASSERT_OK(db_->Flush());
  if (GetParam() == Engine::kLsm) {
    EXPECT_FALSE(dbtest::TableFiles(dir_.path()).empty()) << "Flush wrote no table file";
  }
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

TEST_F(DBReopenLsmTest, AfterCompactionsIntoDeeperLevels) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  dbtest::RandomWrites(db_.get(), &model_, rng, 5000, 3000);
  EXPECT_GT(WaitForFilesBeyondLevel0(), 0) << "no compaction below level 0 happened";
  Reopen();
  EXPECT_GT(dbtest::FilesBeyondLevel0(db_.get()), 0) << "levels were not recovered";
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

// Tombstones written over values that compaction pushed deep must not let them come back.
TEST_P(DBReopenTest, DeletesSurviveReopenAndCompaction) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  for (int i = 0; i < 300; i++) Put(dbtest::NumberedKey(i, "d"), dbtest::RandomBytes(rng, 500));
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  for (int i = 0; i < 300; i += 2) Delete(dbtest::NumberedKey(i, "d"));
  Reopen();  // tombstones only in the log
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  // Unrelated writes push the tombstones through level 0 and further down.
  dbtest::RandomWrites(db_.get(), &model_, rng, 4000, 3000);
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  for (int i = 0; i < 300; i += 2) {
    EXPECT_EQ("NOT_FOUND", dbtest::GetValue(db_.get(), dbtest::NumberedKey(i, "d")));
  }
}

TEST_P(DBReopenTest, FiveReopensWithWritesBetween) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  for (int round = 0; round < 5; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    dbtest::RandomWrites(db_.get(), &model_, rng, 400, 600);
    if (round % 2 == 1) LIGHTNING_ASSERT_OK(db_->Flush());
    if (round % 3 == 2) LIGHTNING_ASSERT_OK(db_->Close());
    Reopen();
    ASSERT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  }
}

// A buffered log (Options::log_buffer_bytes) loses nothing on a clean Close
// or on the destructor, across flushes; and a log buffer over 64 MiB is
// refused.
TEST_F(DBReopenLsmTest, BufferedLogKeepsEverythingAcrossCleanReopens) {
  std::mt19937 rng(dbtest::TestSeed());
  options_.log_buffer_bytes = 3000;
  Open();
  for (int round = 0; round < 4; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    dbtest::RandomWrites(db_.get(), &model_, rng, 300, 500);
    if (round == 1) LIGHTNING_ASSERT_OK(db_->Sync());
    if (round == 2) LIGHTNING_ASSERT_OK(db_->Flush());
    if (round % 2 == 0) LIGHTNING_ASSERT_OK(db_->Close());
    Reopen();
    ASSERT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  }
  db_.reset();
  options_.log_buffer_bytes = (64u << 20) + 1;
  Status s = DB::Open(options_, dir_.path(), &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
}

// Write i puts key i; some writes are made durable by sync=true, or by a later Sync(). After the
// unsynced bytes of every file are lost, the database holds writes 0..k-1 for some k covering
// every durable write: nothing synced is lost, and what survives is a prefix.
TEST_P(DBReopenTest, SyncedWritesSurviveLossOfUnsyncedData) {
  std::mt19937 rng(dbtest::TestSeed());
  for (const bool use_sync_call : {false, true}) {
    SCOPED_TRACE(use_sync_call ? "Sync()" : "WriteOptions::sync");
    CrashingFileSystem fs;
    std::unique_ptr<DB> db;  // destroyed before fs, also when an assertion returns early
    Options options = options_;
    options.fs = &fs;
    const std::string path = dir_.Sub(use_sync_call ? "sync_call" : "sync_writes");
    LIGHTNING_ASSERT_OK(DB::Open(options, path, &db));
    const int kWrites = 1500;
    std::vector<std::string> values;
    int durable = 0;  // writes 0..durable-1 must survive
    for (int i = 0; i < kWrites; i++) {
      WriteOptions write_options;
      write_options.sync = !use_sync_call && i < 1300 && rng() % 50 == 0;
      values.push_back(dbtest::RandomBytes(rng, rng() % 200));
      LIGHTNING_ASSERT_OK(db->Put(write_options, dbtest::NumberedKey(i), values.back()));
      if (write_options.sync) durable = i + 1;
      if (use_sync_call && i == 1300) {
        LIGHTNING_ASSERT_OK(db->Sync());
        durable = i + 1;
      }
    }
    fs.Crash();
    db.reset();
    fs.DropUnsyncedData();
    LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db));

    std::unique_ptr<Iterator> it = db->NewIterator(ReadOptions());
    int present = 0;
    for (it->SeekToFirst(); it->Valid() && present < kWrites; it->Next(), present++) {
      ASSERT_EQ(dbtest::NumberedKey(present), it->key()) << "not a prefix of the writes";
      ASSERT_TRUE(values[present] == it->value()) << "wrong value for write " << present;
    }
    EXPECT_FALSE(it->Valid()) << "more entries than writes";
    LIGHTNING_EXPECT_OK(it->status());
    EXPECT_GE(present, durable) << "synced writes were lost";
    it.reset();
    db.reset();
  }
}

// Flips bytes in the middle of the largest table file. Open, or the read that meets the damage,
// must say Corruption naming the file; no read may return a wrong value or drop a key silently.
TEST_F(DBReopenLsmTest, DamagedTableFileIsCorruption) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  for (int i = 0; i < 2000; i++) Put(dbtest::NumberedKey(i), dbtest::RandomBytes(rng, 100));
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  db_.reset();

  std::string damaged;
  for (const std::string& path : dbtest::TableFiles(dir_.path())) {
    if (damaged.empty() || std::filesystem::file_size(path) > std::filesystem::file_size(damaged)) {
      damaged = path;
    }
  }
  ASSERT_FALSE(damaged.empty()) << "no table file in " << dir_.path();
  ASSERT_TRUE(FlipBytes(damaged, std::filesystem::file_size(damaged) / 2, 16));
  ExpectDamageReported(std::filesystem::path(damaged).filename().string());
}

// CURRENT holding garbage, nothing, or the name of a missing manifest: Corruption, and the
// database is left as it was (restoring CURRENT brings the data back).
TEST_F(DBReopenLsmTest, DamagedCurrentFileIsCorruption) {
  const std::string variants[] = {std::string("\x93\x00garbage\xff\n", 11), "",
                                  "MANIFEST-999999\n"};
  for (size_t v = 0; v < std::size(variants); v++) {
    SCOPED_TRACE("variant " + std::to_string(v));
    const std::string path = dir_.Sub("db" + std::to_string(v));
    LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db_));
    LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), "key", "value"));
    LIGHTNING_ASSERT_OK(db_->Flush());
    db_.reset();

    const std::string current = path + "/CURRENT";
    ASSERT_TRUE(std::filesystem::exists(current)) << "no CURRENT file in " << path;
    std::string original;
    {
      std::ifstream in(current, std::ios::binary);
      original.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::ofstream(current, std::ios::binary | std::ios::trunc) << variants[v];

    Status s = DB::Open(options_, path, &db_);
    EXPECT_TRUE(s.IsCorruption()) << s.ToString();
    if (v == 0) {
      EXPECT_NE(std::string::npos, s.ToString().find("CURRENT")) << s.ToString();
    }
    db_.reset();

    std::ofstream(current, std::ios::binary | std::ios::trunc) << original;
    LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db_));
    EXPECT_EQ("value", dbtest::GetValue(db_.get(), "key"));
    db_.reset();
  }
}

// After a clean close CURRENT records the manifest's length. Zeroing the manifest from the start of
// its last record to its end leaves intact records followed by zeros only, which the log reader
// takes for the end of the log (the write-ahead log's reserved space looks the same): the
// recorded length must expose the loss.
TEST_F(DBReopenLsmTest, ZeroedManifestTailAfterCleanCloseIsCorruption) {
  const std::string path = dir_.Sub("db");
  LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db_));
  for (int i = 0; i < 3; i++) {
    LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), "key" + std::to_string(i), "value"));
    LIGHTNING_ASSERT_OK(db_->Flush());  // a manifest record each
  }
  LIGHTNING_ASSERT_OK(db_->Close());
  db_.reset();

  std::string manifest;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("MANIFEST-") && (manifest.empty() || entry.path().string() > manifest)) {
      manifest = entry.path().string();
    }
  }
  ASSERT_FALSE(manifest.empty());
  uint64_t last_record = 0;
  {
    std::unique_ptr<SequentialFile> file;
    LIGHTNING_ASSERT_OK(FileSystem::Default()->NewSequentialFile(manifest, &file));
    log::Reader reader(file.get(), manifest);
    std::string record;
    int records = 0;
    while (reader.ReadRecord(&record)) records++, last_record = reader.last_record_offset();
    ASSERT_GE(records, 2);
  }
  const uint64_t size = std::filesystem::file_size(manifest);
  {
    std::fstream f(manifest, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(last_record));
    const std::string zeros(size - last_record, '\0');
    f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  }
  ASSERT_EQ(std::filesystem::file_size(manifest), size);

  Status s = DB::Open(options_, path, &db_);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(std::string::npos, s.ToString().find("MANIFEST")) << s.ToString();
  db_.reset();
}

// Found by review when flushes got a thread of their own: the tables that recovery flushed
// from the log stayed marked as being written for the whole session, so compaction made them
// obsolete but they were never deleted (until the next open). After a crash, a reopen that
// replays the log, and a full rewrite and compaction, none of the recovered tables remains.
TEST_F(DBReopenLsmTest, TablesFlushedByRecoveryAreDeletedOnceObsolete) {
  CrashingFileSystem fs;
  std::unique_ptr<DB> db;  // destroyed before fs
  Options options = options_;
  options.fs = &fs;
  LIGHTNING_ASSERT_OK(DB::Open(options, dir_.path(), &db));
  for (int i = 0; i < 200; i++) {  // less than a memtable: it all stays in the log
    LIGHTNING_ASSERT_OK(db->Put(WriteOptions(), dbtest::NumberedKey(i), "old"));
  }
  fs.Crash();  // a process crash: Close cannot flush, the log keeps the writes
  db.reset();
  Open();
  const std::vector<std::string> recovered = dbtest::TableFiles(dir_.path());
  ASSERT_FALSE(recovered.empty()) << "recovery should have flushed the log into a table";
  for (int i = 0; i < 200; i++) Put(dbtest::NumberedKey(i), "new");
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  for (const std::string& name : dbtest::TableFiles(dir_.path())) {
    EXPECT_EQ(recovered.end(), std::find(recovered.begin(), recovered.end(), name))
        << name << ", flushed by recovery, outlived its compaction";
  }
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

TEST_P(DBReopenTest, CheckOkOnHealthyDatabase) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  dbtest::RandomWrites(db_.get(), &model_, rng, 2000, 1000);
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  dbtest::RandomWrites(db_.get(), &model_, rng, 150, 1000);
  LIGHTNING_ASSERT_OK(db_->Flush());
  dbtest::RandomWrites(db_.get(), &model_, rng, 150, 1000);
  LIGHTNING_EXPECT_OK(db_->Check());
  Reopen();
  LIGHTNING_EXPECT_OK(db_->Check());
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

// The leaf page reached from the newest valid meta page of `pages` (the PAGES file's bytes) by
// the middle child of every branch; 0 if there is none.
btree::PageId MiddleLeaf(const std::string& pages) {
  using btree::kPageBytes;
  btree::Meta newest;
  for (btree::PageId id : {0, 1}) {
    btree::Meta meta;
    if (pages.size() >= (id + 1) * kPageBytes &&
        btree::DecodeMetaPage(pages.data() + id * kPageBytes, id, &meta).ok() &&
        meta.txn >= newest.txn) {
      newest = meta;
    }
  }
  btree::PageId id = newest.root;
  for (uint32_t level = newest.height; level > 1 && id != 0; level--) {
    btree::NodeView node;
    btree::Cell cell;
    if ((id + 1) * kPageBytes > pages.size() ||
        !node.Init(pages.data() + id * kPageBytes, id).ok() || node.leaf() ||
        !node.CellAt(node.count() / 2, &cell).ok()) {
      return 0;
    }
    id = cell.child;
  }
  return id;
}

// Flips bytes in the middle of a leaf page that the tree reaches. Open, or the read that meets the
// damage, must say Corruption naming PAGES; no read may return a wrong value or drop a key.
TEST_F(DBReopenBTreeTest, DamagedLeafPageIsCorruption) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  for (int i = 0; i < 2000; i++) Put(dbtest::NumberedKey(i), dbtest::RandomBytes(rng, 100));
  EXPECT_GE(dbtest::BTreeHeight(db_.get()), 2);  // the leaf is found through a branch
  db_.reset();                                   // a clean close checkpoints

  const btree::PageId leaf = MiddleLeaf(ReadFile(PagesPath()));
  ASSERT_GE(leaf, btree::kFirstDataPage) << "no leaf page found in " << PagesPath();
  ASSERT_TRUE(FlipBytes(PagesPath(), leaf * btree::kPageBytes + btree::kPageBytes / 2, 16));
  ExpectDamageReported("PAGES");
}

// With both meta pages damaged nothing says where the tree is: Open must say Corruption naming
// PAGES, and keep saying it (it must not start an empty database over the old one). Damage to the
// meta's fields and to its zero padding alike.
TEST_F(DBReopenBTreeTest, BothMetaPagesDamagedIsCorruption) {
  Open();
  for (int i = 0; i < 300; i++) Put(dbtest::NumberedKey(i), std::string(100, 'v'));
  LIGHTNING_ASSERT_OK(db_->Flush());  // both meta pages hold a checkpoint
  for (int i = 300; i < 600; i++) Put(dbtest::NumberedKey(i), std::string(100, 'w'));
  db_.reset();
  for (const uint64_t offset : {uint64_t{btree::kPageHeaderBytes}, btree::kPageBytes / 2}) {
    SCOPED_TRACE("offset " + std::to_string(offset) + " of each meta page");
    dbtest::TempDir trial;
    std::filesystem::copy(dir_.path(), trial.path(),
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
    const std::string pages = trial.path() + "/PAGES";
    ASSERT_GE(std::filesystem::file_size(pages), 2 * btree::kPageBytes);
    ASSERT_TRUE(FlipBytes(pages, offset, 16));
    ASSERT_TRUE(FlipBytes(pages, btree::kPageBytes + offset, 16));
    for (int attempt = 0; attempt < 2; attempt++) {
      std::unique_ptr<DB> db;
      Status s = DB::Open(options_, trial.path(), &db);
      EXPECT_TRUE(s.IsCorruption()) << "attempt " << attempt << ": " << s.ToString();
      EXPECT_NE(std::string::npos, s.ToString().find("PAGES")) << s.ToString();
      EXPECT_EQ(nullptr, db);
    }
  }
  Open();  // the undamaged original still opens with every write
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

INSTANTIATE_TEST_SUITE_P(, DBReopenTest, dbtest::AllEngines(), dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
