// Integration tests of iterators through the public API: random walks against a std::map over
// data spread across the memtable, level 0 and deeper levels; the bounds of Scan and ScanPrefix;
// hidden tombstones and old versions; and the frozen view an iterator keeps while the DB changes.

#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "lightning/db.h"
#include "lightning/db/db_test_util.h"

namespace lightning {
namespace {

using dbtest::Entries;
using dbtest::Model;
using dbtest::Printable;

// Moves `it` and a cursor over `model` (exactly what `it` should show) the same random way,
// checking after every step that they agree. Seek targets come from `targets`, which should also
// hold keys outside the model and outside the iterator's bounds.
testing::AssertionResult RandomWalk(Iterator* it, const Model& model,
                                    const std::vector<std::string>& targets, std::mt19937& rng,
                                    int steps) {
  auto pos = model.end();
  std::vector<std::string> history;
  for (int step = 0; step < steps; step++) {
    unsigned op = rng() % 10;
    if (pos == model.end()) op %= 4;  // Next and Prev require a valid iterator
    if (op == 0) {
      it->SeekToFirst();
      pos = model.begin();
      history.push_back("SeekToFirst");
    } else if (op == 1) {
      it->SeekToLast();
      pos = model.empty() ? model.end() : std::prev(model.end());
      history.push_back("SeekToLast");
    } else if (op <= 3) {
      const std::string& target = targets[rng() % targets.size()];
      it->Seek(target);
      pos = model.lower_bound(target);
      history.push_back("Seek(" + Printable(target) + ")");
    } else if (op <= 6) {
      it->Next();
      ++pos;
      history.push_back("Next");
    } else {
      it->Prev();
      pos = pos == model.begin() ? model.end() : std::prev(pos);
      history.push_back("Prev");
    }
    const bool want_valid = pos != model.end();
    if (it->Valid() == want_valid &&
        (!want_valid || (it->key() == pos->first && it->value() == pos->second)) &&
        it->status().ok()) {
      continue;
    }
    testing::AssertionResult failure = testing::AssertionFailure();
    failure << "after";
    for (size_t i = history.size() > 8 ? history.size() - 8 : 0; i < history.size(); i++) {
      failure << " " << history[i];
    }
    failure << ": status " << it->status().ToString() << ", valid " << it->Valid();
    if (it->Valid()) failure << " at " << Printable(it->key()) << "=" << Printable(it->value());
    if (want_valid) failure << "; want " << Printable(pos->first) << "=" << Printable(pos->second);
    return failure << (want_valid ? "" : "; want not valid");
  }
  return testing::AssertionSuccess();
}

// The model entries in [start, end); an empty end is unbounded.
Model RangeOf(const Model& model, const std::string& start, const std::string& end) {
  if (!end.empty() && end <= start) return {};
  return Model(model.lower_bound(start), end.empty() ? model.end() : model.lower_bound(end));
}

Model PrefixOf(const Model& model, const std::string& prefix) {
  Model result;
  for (auto it = model.lower_bound(prefix); it != model.end() && it->first.starts_with(prefix);
       ++it) {
    result.insert(*it);
  }
  return result;
}

// Every key of 0..max_length bytes over an alphabet rich in boundary bytes.
std::vector<std::string> EdgeKeys(size_t max_length) {
  static const char kAlphabet[] = {'\x00', 'a', 'b', '\xfe', '\xff'};
  std::vector<std::string> keys = {""};
  for (size_t begin = 0; begin < keys.size(); begin++) {
    if (keys[begin].size() == max_length) continue;
    for (char c : kAlphabet) keys.push_back(keys[begin] + c);
  }
  return keys;
}

class DBIteratorTest : public testing::TestWithParam<Engine> {
 protected:
  DBIteratorTest() : options_(dbtest::SmallOptions(GetParam())) {}

  void Open() { LIGHTNING_ASSERT_OK(DB::Open(options_, dir_.path(), &db_)); }
  std::unique_ptr<Iterator> NewIterator(const Snapshot* snapshot = nullptr) {
    ReadOptions options;
    options.snapshot = snapshot;
    return db_->NewIterator(options);
  }

  void RandomWrites(std::mt19937& rng, int ops, int key_count) {
    dbtest::RandomWrites(db_.get(), &model_, rng, ops, key_count);
  }

  // Writes enough to compact into levels >= 1 (LSM) or to grow the tree above its leaves
  // (B+Tree), then a level-0 table (a checkpoint), then a memtable's worth.
  void FillAllLevels(std::mt19937& rng, int key_count) {
    RandomWrites(rng, 3000, key_count);
    LIGHTNING_ASSERT_OK(db_->CompactAll());
    if (GetParam() == Engine::kLsm) EXPECT_GT(dbtest::FilesBeyondLevel0(db_.get()), 0);
    if (GetParam() == Engine::kBTree) EXPECT_GT(dbtest::BTreeHeight(db_.get()), 1);
    RandomWrites(rng, 200, key_count);  // well under write_buffer_bytes
    LIGHTNING_ASSERT_OK(db_->Flush());
    RandomWrites(rng, 200, key_count);
  }

  dbtest::TempDir dir_;
  Options options_;
  std::unique_ptr<DB> db_;
  Model model_;
};

TEST_P(DBIteratorTest, RandomWalkOverAllLevels) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  const int kKeys = 1500;
  FillAllLevels(rng, kKeys);
  std::vector<std::string> targets = {"", "k", "l", "\xff", std::string("\0", 1)};
  for (int i = 0; i < 300; i++) {
    std::string key = dbtest::NumberedKey(rng() % (kKeys + 10));
    targets.push_back(key);
    targets.push_back(key + std::string("\0", 1));
    targets.push_back(key.substr(0, key.size() - 1));
  }
  for (int round = 0; round < 3; round++) {
    std::unique_ptr<Iterator> it = NewIterator();
    EXPECT_TRUE(RandomWalk(it.get(), model_, targets, rng, 2000)) << "round " << round;
  }
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

TEST_P(DBIteratorTest, ScanAndScanPrefixStayInBounds) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  const std::vector<std::string> keys = EdgeKeys(4);
  const std::vector<std::string> bounds = EdgeKeys(3);
  for (int phase = 0; phase < 3; phase++) {  // deeper levels, level 0, memtable
    for (int i = 0; i < 300; i++) {
      const std::string& key = keys[rng() % keys.size()];
      if (rng() % 4 == 0) {
        LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), key));
        model_.erase(key);
      } else {
        std::string value = "v" + std::to_string(i) + "." + std::to_string(phase);
        LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, value));
        model_[key] = value;
      }
    }
    if (phase == 0) LIGHTNING_ASSERT_OK(db_->CompactAll());
    if (phase == 1) LIGHTNING_ASSERT_OK(db_->Flush());
  }

  for (int i = 0; i < 150; i++) {
    const std::string& start = bounds[rng() % bounds.size()];
    const std::string& end = rng() % 8 == 0 ? std::string() : bounds[rng() % bounds.size()];
    SCOPED_TRACE("Scan(" + Printable(start) + ", " + Printable(end) + ")");
    const Model want = RangeOf(model_, start, end);
    std::unique_ptr<Iterator> it = db_->Scan(ReadOptions(), start, end);
    Entries want_entries(want.begin(), want.end());
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadForward(it.get()), want_entries, "forward"));
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadBackward(it.get()), want_entries, "backward"));
    EXPECT_TRUE(RandomWalk(it.get(), want, keys, rng, 200));
  }
  std::vector<std::string> prefixes = {"", "\xff", "\xff\xff", "a\xff", std::string("\0", 1)};
  for (int i = 0; i < 100; i++) prefixes.push_back(bounds[rng() % bounds.size()]);
  for (const std::string& prefix : prefixes) {
    SCOPED_TRACE("ScanPrefix(" + Printable(prefix) + ")");
    const Model want = PrefixOf(model_, prefix);
    std::unique_ptr<Iterator> it = db_->ScanPrefix(ReadOptions(), prefix);
    Entries want_entries(want.begin(), want.end());
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadForward(it.get()), want_entries, "forward"));
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadBackward(it.get()), want_entries, "backward"));
    EXPECT_TRUE(RandomWalk(it.get(), want, keys, rng, 200));
  }
}

TEST_P(DBIteratorTest, ScanEdgeCases) {
  Open();
  for (const char* key : {"a", "c", "d", "m", "n", "z"}) {
    LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, std::string("v") + key));
  }
  // start > end, and start == end: nothing, however the iterator is positioned.
  for (auto [start, end] : {std::pair("m", "c"), std::pair("d", "d")}) {
    std::unique_ptr<Iterator> it = db_->Scan(ReadOptions(), start, end);
    it->SeekToFirst();
    EXPECT_FALSE(it->Valid());
    it->SeekToLast();
    EXPECT_FALSE(it->Valid());
    for (const char* target : {"", "a", "d", "e", "m"}) {
      it->Seek(target);
      EXPECT_FALSE(it->Valid()) << target;
    }
  }
  // [c, n): SeekToFirst then Prev, and SeekToLast then Next, leave the range.
  std::unique_ptr<Iterator> it = db_->Scan(ReadOptions(), "c", "n");
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key());
  it->Prev();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("m", it->key());
  it->Next();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("c", it->key());
  it->Seek("n");
  EXPECT_FALSE(it->Valid());
  it->Seek("e");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("m", it->key());
  it->Prev();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ("d", it->key());

  // An empty end is unbounded; an empty start is the smallest key.
  auto keys_of = [](Iterator* iter) {
    std::string keys;
    for (const auto& [key, value] : dbtest::ReadForward(iter)) keys += key;
    return keys;
  };
  EXPECT_EQ("mnz", keys_of(db_->Scan(ReadOptions(), "m", "").get()));
  EXPECT_EQ("acdmnz", keys_of(db_->Scan(ReadOptions(), "", "").get()));
  EXPECT_EQ("acd", keys_of(db_->Scan(ReadOptions(), "", "e").get()));
  EXPECT_EQ("acdmnz", keys_of(db_->ScanPrefix(ReadOptions(), "").get()));
}

// Prefixes ending in 0xFF have no successor formed by incrementing their last byte.
TEST_P(DBIteratorTest, ScanPrefixEndingInFF) {
  Open();
  const std::vector<std::string> keys = {"a",
                                         "a\xfe",
                                         "a\xfe\xff",
                                         "a\xff",
                                         std::string("a\xff\0", 3),
                                         "a\xff\xff",
                                         "b",
                                         "\xfe\xff",
                                         "\xff",
                                         "\xff\xfe",
                                         "\xff\xff",
                                         std::string("\xff\xff\0", 3),
                                         "\xff\xff\xff\xff"};
  for (const std::string& key : keys) LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, "v"));
  LIGHTNING_ASSERT_OK(db_->Flush());
  auto keys_of = [&](std::string_view prefix) {
    std::unique_ptr<Iterator> it = db_->ScanPrefix(ReadOptions(), prefix);
    const Entries forward = dbtest::ReadForward(it.get());
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadBackward(it.get()), forward, "backward"));
    std::vector<std::string> result;
    for (const auto& [key, value] : forward) result.push_back(key);
    return result;
  };
  EXPECT_EQ((std::vector<std::string>{"a\xff", std::string("a\xff\0", 3), "a\xff\xff"}),
            keys_of("a\xff"));
  EXPECT_EQ(
      (std::vector<std::string>{"\xff\xff", std::string("\xff\xff\0", 3), "\xff\xff\xff\xff"}),
      keys_of("\xff\xff"));
  EXPECT_EQ(5u, keys_of("\xff").size());
  EXPECT_EQ(keys.size(), keys_of("").size());
}

TEST_P(DBIteratorTest, TombstonesAndOldVersionsHidden) {
  Open();
  for (int i = 0; i < 300; i++) model_[dbtest::NumberedKey(i)] = "v1." + std::to_string(i);
  for (const auto& [key, value] : model_) LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, value));
  LIGHTNING_ASSERT_OK(db_->Flush());
  // A second table of overwrites and deletes, then a memtable of more, including re-puts.
  for (int round = 2; round <= 3; round++) {
    for (int i = 0; i < 300; i++) {
      const std::string key = dbtest::NumberedKey(i);
      if (i % (round + 1) == 0) {
        LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), key));
        model_.erase(key);
      } else if (i % 2 == 0) {
        model_[key] = "v" + std::to_string(round) + "." + std::to_string(i);
        LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, model_[key]));
      }
    }
    if (round == 2) LIGHTNING_ASSERT_OK(db_->Flush());
  }
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));

  // Everything deleted: the iterator skips a table full of tombstones and finds nothing.
  for (int i = 0; i < 300; i++) {
    LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), dbtest::NumberedKey(i)));
  }
  model_.clear();
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  LIGHTNING_ASSERT_OK(db_->Flush());
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  std::unique_ptr<Iterator> it = NewIterator();
  it->Seek(dbtest::NumberedKey(150));
  EXPECT_FALSE(it->Valid());
  LIGHTNING_ASSERT_OK(db_->CompactAll());
  EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
}

// An iterator shows the state at its creation while the DB is overwritten, deleted, flushed and
// compacted under it.
TEST_P(DBIteratorTest, IteratorKeepsFrozenView) {
  std::mt19937 rng(dbtest::TestSeed());
  Open();
  RandomWrites(rng, 1500, 800);
  LIGHTNING_ASSERT_OK(db_->Flush());
  RandomWrites(rng, 100, 800);
  const Model frozen = model_;
  std::unique_ptr<Iterator> it = NewIterator();
  std::unique_ptr<Iterator> scan =
      db_->Scan(ReadOptions(), dbtest::NumberedKey(100), dbtest::NumberedKey(200));
  const Entries frozen_entries(frozen.begin(), frozen.end());
  const Model frozen_range = RangeOf(frozen, dbtest::NumberedKey(100), dbtest::NumberedKey(200));
  const Entries frozen_range_entries(frozen_range.begin(), frozen_range.end());

  // Position the iterator before the changes: it must keep its place and its view.
  it->Seek(dbtest::NumberedKey(400));
  auto pos = frozen.lower_bound(dbtest::NumberedKey(400));
  for (int i = 0; i < 800; i++) {
    const std::string key = dbtest::NumberedKey(i);
    if (i % 3 == 0) {
      LIGHTNING_ASSERT_OK(db_->Delete(WriteOptions(), key));
      model_.erase(key);
    } else {
      model_[key] = "new" + std::to_string(i);
      LIGHTNING_ASSERT_OK(db_->Put(WriteOptions(), key, model_[key]));
    }
  }
  for (int step = 0; step < 50 && pos != frozen.end(); step++, ++pos) {
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(pos->first, it->key());
    EXPECT_EQ(pos->second, it->value());
    it->Next();
  }
  for (int stage = 0; stage < 3; stage++) {
    SCOPED_TRACE(stage == 0 ? "memtable" : stage == 1 ? "after Flush" : "after CompactAll");
    if (stage == 1) LIGHTNING_ASSERT_OK(db_->Flush());
    if (stage == 2) LIGHTNING_ASSERT_OK(db_->CompactAll());
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadForward(it.get()), frozen_entries, "forward"));
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadBackward(it.get()), frozen_entries, "backward"));
    EXPECT_TRUE(dbtest::SameEntries(dbtest::ReadForward(scan.get()), frozen_range_entries, "scan"));
    EXPECT_TRUE(dbtest::MatchesModel(db_.get(), model_));
  }
}

INSTANTIATE_TEST_SUITE_P(, DBIteratorTest, dbtest::AllEngines(), dbtest::EngineParamName);

}  // namespace
}  // namespace lightning
