// Integration tests of the basic operations through the public API: point reads and writes,
// edge-case keys and values, limits, batches, closing, locking and opening options.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "lightning/db.h"
#include "lightning/db/db_test_util.h"

namespace lightning {
namespace {

using dbtest::GetValue;
using dbtest::Model;

class DBBasicTest : public testing::TestWithParam<Engine> {
 protected:
  DBBasicTest() : options_(dbtest::SmallOptions(GetParam())) {}

  void Open() { LIGHTNING_ASSERT_OK(DB::Open(options_, dir_.path(), &db_)); }
  void Reopen() {
    db_.reset();
    Open();
  }
  std::string Get(std::string_view key) { return GetValue(db_.get(), key); }
  Status Put(std::string_view key, std::string_view value) {
    return db_->Put(WriteOptions(), key, value);
  }
  Status Delete(std::string_view key) { return db_->Delete(WriteOptions(), key); }
  Status Write(WriteBatch* batch) { return db_->Write(WriteOptions(), batch); }
  size_t CountEntries() {
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    return dbtest::ReadForward(it.get()).size();
  }

  dbtest::TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
};

TEST_P(DBBasicTest, PutGetDeleteOverwrite) {
  Open();
  LIGHTNING_ASSERT_OK(Put("a", "1"));
  LIGHTNING_ASSERT_OK(Put("b", "2"));
  EXPECT_EQ("1", Get("a"));
  LIGHTNING_ASSERT_OK(Put("a", "one"));
  EXPECT_EQ("one", Get("a"));
  EXPECT_EQ("2", Get("b"));
  LIGHTNING_ASSERT_OK(Delete("a"));
  std::string value = "untouched";
  Status s = db_->Get(ReadOptions(), "a", &value);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ("2", Get("b"));
  EXPECT_EQ("NOT_FOUND", Get("c"));
  LIGHTNING_ASSERT_OK(Put("a", "again"));
  EXPECT_EQ("again", Get("a"));
}

// A tombstone in the memtable, then in a table, must hide the value in an older table.
TEST_P(DBBasicTest, DeleteHidesFlushedValue) {
  Open();
  LIGHTNING_ASSERT_OK(Put("k", "v"));
  LIGHTNING_ASSERT_OK(Put("other", "o"));
  LIGHTNING_ASSERT_OK(db_->Flush());
  LIGHTNING_ASSERT_OK(Delete("k"));
  EXPECT_EQ("NOT_FOUND", Get("k"));
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_EQ("NOT_FOUND", Get("k"));
  Reopen();
  EXPECT_EQ("NOT_FOUND", Get("k"));
  EXPECT_EQ("o", Get("other"));
  EXPECT_EQ(1u, CountEntries());
}

TEST_P(DBBasicTest, DeleteOfAbsentKeyIsOk) {
  Open();
  LIGHTNING_ASSERT_OK(Put("b", "2"));
  LIGHTNING_ASSERT_OK(Delete("a"));
  LIGHTNING_ASSERT_OK(Delete("c"));
  EXPECT_EQ("NOT_FOUND", Get("a"));
  EXPECT_EQ("2", Get("b"));
  EXPECT_EQ(1u, CountEntries());
}

TEST_P(DBBasicTest, EmptyKeyAndEmptyValue) {
  Open();
  LIGHTNING_ASSERT_OK(Put("", "empty-key"));
  LIGHTNING_ASSERT_OK(Put("k", ""));
  for (int round = 0; round < 3; round++) {
    SCOPED_TRACE(round == 0 ? "memtable" : round == 1 ? "table" : "reopened");
    EXPECT_EQ("empty-key", Get(""));
    std::string value = "junk";
    LIGHTNING_EXPECT_OK(db_->Get(ReadOptions(), "k", &value));
    EXPECT_EQ("", value);
    std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
    it->SeekToFirst();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ("", it->key());
    EXPECT_EQ("empty-key", it->value());
    it.reset();
    if (round == 0) LIGHTNING_ASSERT_OK(db_->Flush());
    if (round == 1) Reopen();
  }
  LIGHTNING_ASSERT_OK(Delete(""));
  EXPECT_EQ("NOT_FOUND", Get(""));
  EXPECT_EQ("", Get("k"));
}

// Keys differing only in 0x00 and 0xFF bytes are distinct and sort bytewise (unsigned).
TEST_P(DBBasicTest, BinaryKeys) {
  Open();
  const std::string keys[] = {std::string("\0", 1),
                              "a",
                              std::string("a\0", 2),
                              std::string("a\0b", 3),
                              "a\x7f",
                              "a\x80",
                              "a\xff",
                              "\xff",
                              "\xff\xff",
                              std::string("\xff\xff\0", 3)};
  Model model;
  for (size_t i = 0; i < std::size(keys); i++) {
    std::string value = "v" + std::to_string(i) + std::string("\0\xff", 2);
    LIGHTNING_ASSERT_OK(Put(keys[i], value));
    model[keys[i]] = value;
  }
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
  EXPECT_EQ("NOT_FOUND", Get(std::string("a\0\0", 3)));
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
}

TEST_P(DBBasicTest, LargeValues) {
  Open();
  std::mt19937 rng(301);
  Model model;
  for (int i = 0; i < 20; i++) {
    std::string value = dbtest::RandomBytes(rng, 100 << 10);
    LIGHTNING_ASSERT_OK(Put(dbtest::NumberedKey(i), value));
    model[dbtest::NumberedKey(i)] = value;
  }
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
}

TEST_P(DBBasicTest, SixteenMebibyteValue) {
  Open();
  std::string big(16 << 20, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  LIGHTNING_ASSERT_OK(Put("big", big));
  LIGHTNING_ASSERT_OK(Put("small", "s"));
  for (int round = 0; round < 3; round++) {
    SCOPED_TRACE(round);
    std::string value;
    LIGHTNING_ASSERT_OK(db_->Get(ReadOptions(), "big", &value));
    EXPECT_EQ(big.size(), value.size());
    EXPECT_TRUE(value == big) << "the 16 MiB value came back different";
    EXPECT_EQ("s", Get("small"));
    if (round == 0) Reopen();  // replays (or reads the flushed) 16 MiB record
    if (round == 1) LIGHTNING_ASSERT_OK(db_->Flush());
  }
}

TEST_P(DBBasicTest, KeySizeLimit) {
  Open();
  const std::string max_key(kMaxKeyBytes, 'x');
  const std::string too_long(kMaxKeyBytes + 1, 'y');
  LIGHTNING_ASSERT_OK(Put(max_key, "max"));
  EXPECT_EQ("max", Get(max_key));

  Status s = Put(too_long, "v");
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  s = Delete(too_long);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(1u, CountEntries());

  Reopen();  // the maximal key replayed from the log
  EXPECT_EQ("max", Get(max_key));
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_EQ("max", Get(max_key));
  EXPECT_EQ(1u, CountEntries());
}

TEST_P(DBBasicTest, BatchWithOversizeKeyAppliesNothing) {
  Open();
  LIGHTNING_ASSERT_OK(Put("keep", "old"));
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Delete("keep");
  batch.Put(std::string(kMaxKeyBytes + 1, 'z'), "x");
  batch.Put("b", "2");
  Status s = Write(&batch);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  for (int round = 0; round < 2; round++) {
    SCOPED_TRACE(round == 0 ? "before reopen" : "after reopen");
    EXPECT_EQ("NOT_FOUND", Get("a"));
    EXPECT_EQ("NOT_FOUND", Get("b"));
    EXPECT_EQ("old", Get("keep"));
    EXPECT_EQ(1u, CountEntries());
    Reopen();
  }
}

// Within a batch a later operation on the same key wins, also once the batch is in a table.
TEST_P(DBBasicTest, BatchLaterOperationWins) {
  Open();
  LIGHTNING_ASSERT_OK(Put("y", "old-y"));
  LIGHTNING_ASSERT_OK(Put("z", "old-z"));
  WriteBatch batch;
  batch.Put("k", "1");
  batch.Put("k", "2");
  batch.Put("k", "3");
  batch.Put("x", "1");
  batch.Delete("x");
  batch.Delete("y");
  batch.Put("y", "new-y");
  batch.Put("z", "new-z");
  batch.Delete("z");
  LIGHTNING_ASSERT_OK(Write(&batch));
  const Model model = {{"k", "3"}, {"y", "new-y"}};
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
  Reopen();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model));
}

TEST_P(DBBasicTest, BatchCountAndClear) {
  Open();
  WriteBatch batch;
  const size_t empty_size = batch.ApproximateSize();
  EXPECT_EQ(0u, batch.Count());
  batch.Put("a", "1");
  batch.Delete("b");
  batch.Put("c", "3");
  EXPECT_EQ(3u, batch.Count());
  EXPECT_GT(batch.ApproximateSize(), empty_size);
  batch.Clear();
  EXPECT_EQ(0u, batch.Count());
  EXPECT_EQ(empty_size, batch.ApproximateSize());
  LIGHTNING_ASSERT_OK(Write(&batch));  // an empty batch is a no-op
  EXPECT_EQ(0u, CountEntries());

  batch.Put("d", "4");
  EXPECT_EQ(1u, batch.Count());
  LIGHTNING_ASSERT_OK(Write(&batch));
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), {{"d", "4"}}));
}

TEST_P(DBBasicTest, StatusToString) {
  EXPECT_EQ("OK", Status::OK().ToString());
  Open();
  std::string value;
  Status s = db_->Get(ReadOptions(), "absent", &value);
  ASSERT_TRUE(s.IsNotFound());
  EXPECT_FALSE(s.ToString().empty());
  EXPECT_NE("OK", s.ToString());
  s = Put(std::string(kMaxKeyBytes + 1, 'k'), "v");
  ASSERT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(std::string::npos, s.ToString().find("InvalidArgument")) << s.ToString();
}

TEST_P(DBBasicTest, CloseThenCallsFail) {
  Open();
  LIGHTNING_ASSERT_OK(Put("a", "1"));
  LIGHTNING_ASSERT_OK(db_->Close());

  std::string value;
  WriteBatch batch;
  batch.Put("b", "2");
  EXPECT_TRUE(Put("b", "2").IsInvalidArgument());
  EXPECT_TRUE(Delete("a").IsInvalidArgument());
  EXPECT_TRUE(Write(&batch).IsInvalidArgument());
  EXPECT_TRUE(db_->Get(ReadOptions(), "a", &value).IsInvalidArgument());
  EXPECT_TRUE(db_->Flush().IsInvalidArgument());
  EXPECT_TRUE(db_->Sync().IsInvalidArgument());
  std::unique_ptr<Iterator> it = db_->NewIterator(ReadOptions());
  ASSERT_NE(nullptr, it);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().IsInvalidArgument()) << it->status().ToString();
  it.reset();

  Reopen();  // the destructor of a closed DB is fine, and the close lost nothing
  EXPECT_EQ("1", Get("a"));
  EXPECT_EQ("NOT_FOUND", Get("b"));
}

TEST_P(DBBasicTest, SecondOpenIsBusy) {
  Open();
  LIGHTNING_ASSERT_OK(Put("a", "1"));
  std::unique_ptr<DB> second;
  Status s = DB::Open(options_, dir_.path(), &second);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_EQ(nullptr, second);
  second.reset();

  EXPECT_EQ("1", Get("a"));
  LIGHTNING_ASSERT_OK(Put("b", "2"));
  EXPECT_EQ("2", Get("b"));
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_EQ("2", Get("b"));
  Reopen();  // the lock is released by the close
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), {{"a", "1"}, {"b", "2"}}));
}

TEST_P(DBBasicTest, MissingDatabaseWithoutCreateIfMissing) {
  options_.create_if_missing = false;
  const std::string path = dir_.Sub("missing");
  for (int attempt = 0; attempt < 2; attempt++) {
    Status s = DB::Open(options_, path, &db_);
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    EXPECT_EQ(nullptr, db_);
  }
  options_.create_if_missing = true;
  LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db_));
  EXPECT_EQ(0u, CountEntries());
}

TEST_P(DBBasicTest, ErrorIfExists) {
  options_.error_if_exists = true;
  Open();  // a new database is fine
  LIGHTNING_ASSERT_OK(Put("a", "1"));
  db_.reset();
  Status s = DB::Open(options_, dir_.path(), &db_);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(nullptr, db_);
  options_.error_if_exists = false;
  Open();
  EXPECT_EQ("1", Get("a"));
}

TEST_P(DBBasicTest, UnknownEngineIsInvalidArgument) {
  options_.engine = static_cast<Engine>(7);
  Status s = DB::Open(options_, dir_.path(), &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(nullptr, db_);
}

TEST_P(DBBasicTest, OutOfRangeOptionsAreInvalidArgument) {
  options_.write_buffer_bytes = 1000;
  Status s = DB::Open(options_, dir_.path(), &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(nullptr, db_);
  options_ = dbtest::SmallOptions(GetParam());
  s = DB::Open(options_, "", &db_);
  EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_EQ(nullptr, db_);
}

TEST_P(DBBasicTest, DestroyDB) {
  const std::string path = dir_.Sub("db");
  LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db_));
  LIGHTNING_ASSERT_OK(Put("a", "1"));
  LIGHTNING_ASSERT_OK(db_->Flush());
  LIGHTNING_ASSERT_OK(Put("b", "2"));

  Status s = DestroyDB(path, options_);
  EXPECT_TRUE(s.IsBusy()) << s.ToString();
  EXPECT_EQ("1", Get("a"));  // untouched while open
  db_.reset();

  LIGHTNING_ASSERT_OK(DestroyDB(path, options_));
  EXPECT_FALSE(std::filesystem::exists(path));
  Options no_create = options_;
  no_create.create_if_missing = false;
  EXPECT_FALSE(DB::Open(no_create, path, &db_).ok());
  LIGHTNING_ASSERT_OK(DB::Open(options_, path, &db_));
  EXPECT_EQ(0u, CountEntries());
}

INSTANTIATE_TEST_SUITE_P(, DBBasicTest, dbtest::AllEngines(), dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
