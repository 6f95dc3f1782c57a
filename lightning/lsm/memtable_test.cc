#include "lightning/lsm/memtable.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "lightning/db/write_batch_internal.h"

namespace lightning {
namespace {

// "found:<value>", "deleted" or "absent".
std::string Lookup(const MemTable& table, std::string_view key, SequenceNumber seq) {
  std::string value = "unchanged";
  Status s;
  if (!table.Get(LookupKey(key, seq), &value, &s)) return "absent";
  if (s.IsNotFound()) return "deleted";
  EXPECT_TRUE(s.ok());
  return "found:" + value;
}

std::string InternalKey(std::string_view user_key, SequenceNumber seq, ValueType t) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, t);
  return k;
}

TEST(MemTableTest, VersionsTombstonesAndSnapshots) {
  auto table = std::make_shared<MemTable>();
  EXPECT_TRUE(table->Empty());
  table->Add(10, kTypeValue, "k", "v10");
  table->Add(20, kTypeDeletion, "k", "");
  table->Add(30, kTypeValue, "k", "v30");
  table->Add(15, kTypeValue, "other", "o15");
  EXPECT_FALSE(table->Empty());

  EXPECT_EQ(Lookup(*table, "k", 9), "absent");  // before the first version
  EXPECT_EQ(Lookup(*table, "k", 10), "found:v10");
  EXPECT_EQ(Lookup(*table, "k", 19), "found:v10");
  EXPECT_EQ(Lookup(*table, "k", 20), "deleted");
  EXPECT_EQ(Lookup(*table, "k", 29), "deleted");
  EXPECT_EQ(Lookup(*table, "k", 30), "found:v30");
  EXPECT_EQ(Lookup(*table, "k", kMaxSequenceNumber), "found:v30");
  EXPECT_EQ(Lookup(*table, "j", kMaxSequenceNumber), "absent");
  EXPECT_EQ(Lookup(*table, "kk", kMaxSequenceNumber), "absent");
  EXPECT_EQ(Lookup(*table, "other", 14), "absent");
  EXPECT_EQ(Lookup(*table, "other", 15), "found:o15");
  EXPECT_EQ(Lookup(*table, "zzz", kMaxSequenceNumber), "absent");
}

// The key filter may only say "maybe": every added key is found whatever the
// filter's size (one line, saturated, or roomy), and absent keys are absent.
TEST(MemTableTest, FilterNeverHidesAnAddedKey) {
  for (size_t budget : {size_t{0}, size_t{64} << 10, size_t{8} << 20}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    auto table = std::make_shared<MemTable>(budget);
    for (int i = 0; i < 20000; i += 2) {
      table->Add(i + 1, kTypeValue, "key" + std::to_string(i), "v" + std::to_string(i));
    }
    for (int i = 0; i < 20000; i++) {
      const std::string expected = i % 2 == 0 ? "found:v" + std::to_string(i) : "absent";
      ASSERT_EQ(Lookup(*table, "key" + std::to_string(i), kMaxSequenceNumber), expected) << i;
    }
  }
}

TEST(MemTableTest, EmptyKeyAndBinaryBytes) {
  auto table = std::make_shared<MemTable>();
  std::string zero("\0", 1), ff("\xff", 1), zero_ff("\0\xff", 2), ff_zero("\xff\0", 2);
  table->Add(1, kTypeValue, "", "empty key");
  table->Add(2, kTypeValue, zero, "00");
  table->Add(3, kTypeValue, ff, "ff");
  table->Add(4, kTypeValue, zero_ff, std::string("\0\0", 2));
  table->Add(5, kTypeValue, ff_zero, "");
  EXPECT_EQ(Lookup(*table, "", 10), "found:empty key");
  EXPECT_EQ(Lookup(*table, zero, 10), "found:00");
  EXPECT_EQ(Lookup(*table, ff, 10), "found:ff");
  EXPECT_EQ(Lookup(*table, zero_ff, 10), "found:" + std::string("\0\0", 2));
  EXPECT_EQ(Lookup(*table, ff_zero, 10), "found:");
  EXPECT_EQ(Lookup(*table, std::string("\0\0", 2), 10), "absent");

  std::unique_ptr<InternalIterator> iter(table->NewIterator());
  std::vector<std::string> user_keys;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) {
    user_keys.emplace_back(ExtractUserKey(iter->key()));
  }
  EXPECT_EQ(user_keys, (std::vector<std::string>{"", zero, zero_ff, ff, ff_zero}));
}

TEST(MemTableTest, IteratorOrdersVersionsNewestFirst) {
  auto table = std::make_shared<MemTable>();
  for (SequenceNumber seq = 1; seq <= 50; seq++) {
    table->Add(seq, seq % 7 == 0 ? kTypeDeletion : kTypeValue, "b", "v" + std::to_string(seq));
  }
  table->Add(51, kTypeValue, "a", "va");
  table->Add(52, kTypeValue, "c", "vc");

  std::vector<std::string> expected;
  expected.push_back(InternalKey("a", 51, kTypeValue));
  for (SequenceNumber seq = 50; seq >= 1; seq--) {
    expected.push_back(InternalKey("b", seq, seq % 7 == 0 ? kTypeDeletion : kTypeValue));
  }
  expected.push_back(InternalKey("c", 52, kTypeValue));

  std::unique_ptr<InternalIterator> iter(table->NewIterator());
  std::vector<std::string> forward;
  for (iter->SeekToFirst(); iter->Valid(); iter->Next()) forward.emplace_back(iter->key());
  EXPECT_EQ(forward, expected);
  std::vector<std::string> backward;
  for (iter->SeekToLast(); iter->Valid(); iter->Prev()) backward.emplace_back(iter->key());
  EXPECT_EQ(backward, std::vector<std::string>(expected.rbegin(), expected.rend()));
  EXPECT_TRUE(iter->status().ok());

  // Seeking to (b, 30) lands on the newest version of b at or below 30.
  iter->Seek(InternalKey("b", 30, kValueTypeForSeek));
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ(iter->key(), InternalKey("b", 30, kTypeValue));
  EXPECT_EQ(iter->value(), "v30");
  iter->Seek(InternalKey("b", 28, kValueTypeForSeek));
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ(iter->key(), InternalKey("b", 28, kTypeDeletion));
  iter->Seek(InternalKey("bb", kMaxSequenceNumber, kValueTypeForSeek));
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ(iter->value(), "vc");
  iter->Seek(InternalKey("d", kMaxSequenceNumber, kValueTypeForSeek));
  EXPECT_FALSE(iter->Valid());
}

TEST(MemTableTest, IteratorKeepsTableAlive) {
  auto table = std::make_shared<MemTable>();
  table->Add(1, kTypeValue, "key", std::string(100000, 'x'));  // a large arena block
  std::unique_ptr<InternalIterator> iter(table->NewIterator());
  table.reset();
  iter->SeekToFirst();
  ASSERT_TRUE(iter->Valid());
  EXPECT_EQ(iter->value(), std::string(100000, 'x'));
}

TEST(MemTableTest, InsertBatchAssignsConsecutiveSequences) {
  auto table = std::make_shared<MemTable>();
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "2");
  batch.Delete("a");
  batch.Put("a", "3");
  WriteBatchInternal::SetSequence(&batch, 100);
  ASSERT_TRUE(table->Insert(batch).ok());
  EXPECT_EQ(Lookup(*table, "a", 100), "found:1");
  EXPECT_EQ(Lookup(*table, "b", 100), "absent");
  EXPECT_EQ(Lookup(*table, "b", 101), "found:2");
  EXPECT_EQ(Lookup(*table, "a", 102), "deleted");
  EXPECT_EQ(Lookup(*table, "a", 103), "found:3");
  size_t used = table->ApproximateMemoryUsage();
  EXPECT_GT(used, 0u);

  WriteBatch bad;
  bad.Put("z", "9");
  WriteBatchInternal::SetCount(&bad, 2);
  EXPECT_TRUE(table->Insert(bad).IsCorruption());
  EXPECT_EQ(Lookup(*table, "z", kMaxSequenceNumber), "absent");  // nothing applied
}

}  // namespace
}  // namespace lightning
