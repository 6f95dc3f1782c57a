#include "lightning/table/table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "lightning/lsm/dbformat.h"
#include "lightning/table/table_builder.h"
#include "lightning/util/random.h"

namespace lightning {
namespace {

// In-memory files: the writer appends to a shared string the reader reads.
class MemWritableFile : public WritableFile {
 public:
  explicit MemWritableFile(std::string* data) : data_(data) {}
  Status Append(std::string_view d) override {
    data_->append(d);
    appends_++;
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  int appends_ = 0;

 private:
  std::string* data_;
};

// With `mapped`, it also offers its bytes as a mapping, as the POSIX file
// system does, so the table uses uncompressed blocks in place.
class MemRandomAccessFile : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::string data, bool mapped = false)
      : data_(std::move(data)), mapped_(mapped) {}
  std::string_view Mapped() const override { return mapped_ ? data_ : std::string_view(); }
  Status Read(uint64_t offset, size_t n, char* scratch, std::string_view* result) const override {
    if (offset > data_.size()) return Status::IOError("read past end");
    n = std::min<uint64_t>(n, data_.size() - offset);
    if (mapped_) {  // a mapped file answers with a view and leaves scratch alone
      *result = std::string_view(data_).substr(offset, n);
      return Status::OK();
    }
    std::copy_n(data_.data() + offset, n, scratch);
    *result = std::string_view(scratch, n);
    return Status::OK();
  }

 private:
  std::string data_;
  bool mapped_;
};

uint64_t Seed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 42;
  std::printf("LIGHTNING_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

std::string IKey(std::string_view user_key, SequenceNumber seq, ValueType t = kTypeValue) {
  std::string k;
  AppendInternalKey(&k, user_key, seq, t);
  return k;
}

using Entries = std::vector<std::pair<std::string, std::string>>;

// 10,000 entries: the empty key, keys with 0xFF bytes, several versions of
// some user keys, a tombstone, and one 1 MiB value.
Entries MakeEntries(uint64_t seed) {
  Random rnd(seed);
  Entries entries;
  entries.emplace_back(IKey("", 7), "empty key");
  for (int i = 0; entries.size() < 9999; i++) {
    char user_key[32];
    std::snprintf(user_key, sizeof(user_key), "user%07d", i * 2);
    const int versions = i % 10 == 0 ? 3 : 1;
    for (int v = 0; v < versions; v++) {
      entries.emplace_back(IKey(user_key, 1000 - v, v == 2 ? kTypeDeletion : kTypeValue),
                           std::string(rnd.Uniform(100), static_cast<char>('a' + i % 26)));
    }
  }
  entries[5000].second = std::string(1 << 20, 'x');
  entries.emplace_back(IKey(std::string("\xff\xff\x00\xff", 4), 3), "ff");
  entries.resize(10000);
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return GetInternalKeyComparator()->Compare(a.first, b.first) < 0;
  });
  return entries;
}

// Builds a table of `entries` into *data and opens it (mapped or not), without a block cache.
void BuildAndOpen(const Options& options, const Entries& entries, bool mapped, std::string* data,
                  std::unique_ptr<Table>* table) {
  MemWritableFile file(data);
  TableBuilder builder(options, &file);
  for (const auto& [k, v] : entries) builder.Add(k, v);
  ASSERT_TRUE(builder.Finish().ok());
  ASSERT_TRUE(Table::Open(options, "t.lt", std::make_unique<MemRandomAccessFile>(*data, mapped),
                          data->size(), nullptr, table)
                  .ok());
}

// Parameters: the compression, and whether the file is memory-mapped.
class TableTest : public ::testing::TestWithParam<std::tuple<Compression, bool>> {
 protected:
  void SetUp() override {
    options_.compression = std::get<0>(GetParam());
    options_.block_bytes = 1024;
    entries_ = MakeEntries(Seed());
    MemWritableFile file(&data_);
    TableBuilder builder(options_, &file);
    for (const auto& [k, v] : entries_) builder.Add(k, v);
    ASSERT_TRUE(builder.Finish().ok());
    EXPECT_EQ(builder.NumEntries(), entries_.size());
    EXPECT_EQ(builder.FileSize(), data_.size());
    // Buffered: far fewer appends than blocks.
    EXPECT_LT(file.appends_, static_cast<int>(data_.size() / options_.block_bytes / 4));
  }

  Status Open(std::string data, std::unique_ptr<Table>* table) {
    const uint64_t size = data.size();
    return Table::Open(
        options_, "000007.lt",
        std::make_unique<MemRandomAccessFile>(std::move(data), std::get<1>(GetParam())), size,
        &cache_, table);
  }

  // The entry Get finds for `key`, or "" with *found false.
  Status Get(const Table& table, std::string_view key, std::string* found_key, bool* found,
             ReadOptions ro = {}) {
    *found = false;
    return table.Get(ro, key, [&](std::string_view k, std::string_view) {
      EXPECT_FALSE(*found);
      *found = true;
      found_key->assign(k);
    });
  }

  // The offset of a byte in the middle of the first data block's contents.
  static size_t DataByte() { return 100; }

  Options options_;
  Entries entries_;
  std::string data_;
  BlockCache cache_{1 << 20};
};

TEST_P(TableTest, IteratesBothDirections) {
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(data_, &table).ok());
  std::unique_ptr<InternalIterator> it(table->NewIterator(ReadOptions()));
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), i++) {
    ASSERT_LT(i, entries_.size());
    ASSERT_EQ(it->key(), entries_[i].first) << i;
    ASSERT_EQ(it->value(), entries_[i].second) << i;
  }
  EXPECT_EQ(i, entries_.size());
  for (it->SeekToLast(); it->Valid(); it->Prev()) {
    ASSERT_GT(i, 0u);
    ASSERT_EQ(it->key(), entries_[--i].first);
  }
  EXPECT_EQ(i, 0u);
  EXPECT_TRUE(it->status().ok());
  if (std::get<0>(GetParam()) == Compression::kNone && std::get<1>(GetParam())) {
    EXPECT_EQ(cache_.hits() + cache_.misses(), 0u);  // blocks used in place
  } else {
    EXPECT_GT(cache_.hits(), 0u);  // the backward pass found blocks cached
  }
}

TEST_P(TableTest, SeekAndGet) {
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(data_, &table).ok());
  std::unique_ptr<InternalIterator> it(table->NewIterator(ReadOptions()));
  std::string key;
  bool found;
  for (size_t i = 0; i < entries_.size(); i += 7) {
    it->Seek(entries_[i].first);
    ASSERT_TRUE(it->Valid());
    ASSERT_EQ(it->key(), entries_[i].first);
    ASSERT_TRUE(Get(*table, entries_[i].first, &key, &found).ok());
    ASSERT_TRUE(found);
    EXPECT_EQ(key, entries_[i].first);
  }
  // The newest version visible at a snapshot.
  ASSERT_TRUE(Get(*table, IKey("user0000000", 999), &key, &found).ok());
  ASSERT_TRUE(found);
  EXPECT_EQ(key, IKey("user0000000", 999));
  // Odd user keys were never written: the filter rules out nearly all.
  int calls = 0;
  for (int i = 1; i < 2000; i += 2) {
    char user_key[32];
    std::snprintf(user_key, sizeof(user_key), "user%07d", i);
    ASSERT_TRUE(Get(*table, IKey(user_key, 5000), &key, &found).ok());
    if (found) {
      calls++;
      EXPECT_NE(ExtractUserKey(key), user_key);
    }
  }
  EXPECT_LT(calls, 40);
  it->Seek(IKey("\xff\xff\xff", 1));
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TEST_P(TableTest, ConcurrentReaders) {
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(data_, &table).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < entries_.size(); i += 13) {
        bool found = false;
        Status s = table->Get(
            ReadOptions(), entries_[i].first,
            [&](std::string_view, std::string_view v) { found = v == entries_[i].second; });
        EXPECT_TRUE(s.ok() && found) << i;
      }
    });
  }
  for (auto& th : threads) th.join();
}

TEST_P(TableTest, FlippedDataByteIsCorruption) {
  std::string bad = data_;
  bad[DataByte()] ^= 0x40;
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(bad, &table).ok());  // only a data block is damaged
  Status s = table->VerifyChecksums();
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("000007.lt"), std::string::npos) << s.ToString();

  std::unique_ptr<InternalIterator> it(table->NewIterator(ReadOptions()));
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  ASSERT_TRUE(it->status().IsCorruption());
  EXPECT_NE(it->status().message().find("000007.lt"), std::string::npos);

  std::string key;
  bool found;
  s = Get(*table, entries_[0].first, &key, &found);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_FALSE(found);
  EXPECT_NE(s.message().find("000007.lt"), std::string::npos);
  std::unique_ptr<Table> good;
  ASSERT_TRUE(Open(data_, &good).ok());
  EXPECT_TRUE(good->VerifyChecksums().ok());
}

TEST_P(TableTest, TruncatedOrForeignFileFailsToOpen) {
  std::unique_ptr<Table> table;
  for (size_t cut : {size_t{1}, size_t{47}, size_t{48}, size_t{1000}, data_.size() - 1}) {
    Status s = Open(data_.substr(0, data_.size() - cut), &table);
    ASSERT_TRUE(s.IsCorruption()) << cut << " " << s.ToString();
    EXPECT_NE(s.message().find("000007.lt"), std::string::npos);
    EXPECT_EQ(table, nullptr);
  }
  EXPECT_TRUE(Open(std::string(100000, 'x'), &table).IsCorruption());
  EXPECT_TRUE(Open("", &table).IsCorruption());
}

TEST_P(TableTest, RandomDamageNeverCrashes) {
  Random rnd(Seed());
  int failures = 0;
  for (int trial = 0; trial < 200; trial++) {
    std::string bad = data_;
    bad[rnd.Uniform(bad.size())] ^= static_cast<char>(1 + rnd.Uniform(255));
    std::unique_ptr<Table> table;
    if (!Open(bad, &table).ok()) {
      failures++;
      continue;
    }
    ReadOptions ro;
    ro.verify_checksums = rnd.OneIn(2);
    ro.fill_cache = false;
    std::unique_ptr<InternalIterator> it(table->NewIterator(ro));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
    }
    failures += !it->status().ok() || !table->VerifyChecksums().ok();
  }
  EXPECT_GT(failures, 0);
}

// A mapped table verifies each block on its first use only: damage in one
// block is still reported on every read of it, and never hides behind a
// neighbour that passed.
TEST_P(TableTest, DamageIsReportedOnEveryReadOfTheBlock) {
  std::string bad = data_;
  bad[DataByte()] ^= 0x01;  // in the first data block
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Open(bad, &table).ok());
  int corrupt = 0;
  for (int round = 0; round < 3; round++) {
    int round_corrupt = 0;
    for (size_t i = 0; i < entries_.size(); i += 7) {
      std::string key;
      bool found;
      Status s = Get(*table, entries_[i].first, &key, &found);
      if (s.IsCorruption()) {
        round_corrupt++;
      } else {
        ASSERT_TRUE(s.ok()) << s.ToString();
        ASSERT_TRUE(found && key == entries_[i].first) << i;
      }
    }
    if (round > 0) EXPECT_EQ(round_corrupt, corrupt) << "round " << round;
    corrupt = round_corrupt;
  }
  EXPECT_GT(corrupt, 0);
}

INSTANTIATE_TEST_SUITE_P(CompressionAndMapping, TableTest,
                         ::testing::Combine(::testing::Values(Compression::kNone,
                                                              Compression::kLz4),
                                            ::testing::Bool()));

TEST(TableEmptyTest, EmptyTableOpensAndIsEmpty) {
  std::string data;
  MemWritableFile file(&data);
  Options options;
  TableBuilder builder(options, &file);
  ASSERT_TRUE(builder.Finish().ok());
  std::unique_ptr<Table> table;
  ASSERT_TRUE(Table::Open(options, "e.lt", std::make_unique<MemRandomAccessFile>(data), data.size(),
                          nullptr, &table)
                  .ok());
  std::unique_ptr<InternalIterator> it(table->NewIterator(ReadOptions()));
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  EXPECT_TRUE(table->VerifyChecksums().ok());
}

// Get must land on the first entry at or after every target, present or not, between versions,
// before and after the table, exactly as a search of the sorted entries does. No filter, so every
// Get reaches the block search; small blocks; mapped and not mapped. Returns the table's fence
// count (Table: a point read finds its block through them when they decide).
size_t ExpectGetFindsFirstEntryAtOrAfter(const Entries& entries,
                                         const std::vector<std::string>& targets) {
  const Comparator* cmp = GetInternalKeyComparator();
  size_t fences = 0;
  for (bool mapped : {false, true}) {
    SCOPED_TRACE(mapped ? "mapped" : "not mapped");
    Options options;
    options.block_bytes = 128;
    options.bloom_bits_per_key = 0;
    std::string data;
    std::unique_ptr<Table> table;
    BuildAndOpen(options, entries, mapped, &data, &table);
    if (table == nullptr) {
      ADD_FAILURE() << "the table did not open";
      return 0;
    }
    fences = table->fence_count();
    for (const std::string& target : targets) {
      auto expected = std::lower_bound(entries.begin(), entries.end(), target,
                                       [cmp](const auto& entry, const std::string& t) {
                                         return cmp->Compare(entry.first, t) < 0;
                                       });
      bool found = false;
      std::string key, value;
      EXPECT_TRUE(table
                      ->Get(ReadOptions(), target,
                            [&](std::string_view k, std::string_view v) {
                              found = true;
                              key.assign(k);
                              value.assign(v);
                            })
                      .ok());
      EXPECT_EQ(expected != entries.end(), found) << ExtractUserKey(target);
      if (found && expected != entries.end()) {
        EXPECT_EQ(expected->first, key) << ExtractUserKey(target);
        EXPECT_EQ(expected->second, value);
      }
      if (::testing::Test::HasFailure()) return fences;
    }
  }
  return fences;
}

// Decimal keys (W1's shape): the fences decide, except where versions of one user key are split
// across blocks (equal fences: the index search decides) and for targets outside the keys' prefix.
TEST(TableGetTest, GetFindsTheFirstEntryAtOrAfterEveryTarget) {
  auto user_key = [](int n) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%016d", n);
    return std::string(buf);
  };
  Entries entries;
  for (int n = 1000000; n <= 1006000; n += 2) {
    // Every 50th key has three versions, some of them split across blocks (equal windows).
    for (SequenceNumber seq :
         n % 100 == 0 ? std::vector<SequenceNumber>{9, 7, 5} : std::vector<SequenceNumber>{5}) {
      entries.emplace_back(IKey(user_key(n), seq),
                           "v" + std::to_string(n) + "/" + std::to_string(seq));
    }
  }
  std::vector<std::string> targets;
  for (int n = 999990; n <= 1006010; n++) {
    for (SequenceNumber seq :
         {kMaxSequenceNumber, SequenceNumber{8}, SequenceNumber{6}, SequenceNumber{4}}) {
      targets.push_back(IKey(user_key(n), seq));
    }
  }
  for (const char* foreign : {"", "0", "00000000010", "1", "\xff"}) {
    targets.push_back(IKey(foreign, kMaxSequenceNumber));
  }
  EXPECT_GT(ExpectGetFindsFirstEntryAtOrAfter(entries, targets), 100u);
}

// Keys that defeat the fences: the 8 bytes after the shared prefix are equal for runs of keys
// (they differ only further on), keys of every length from 0 to 12 bytes, and keys that differ
// only by trailing zero bytes (zero padding makes their fences equal).
TEST(TableGetTest, GetIsExactWhereFencesCannotDecide) {
  std::vector<std::string> user_keys;
  for (int i = 0; i < 600; i++) {
    // "x", one byte, eight equal bytes, then the byte that tells keys apart.
    user_keys.push_back(std::string("x") + static_cast<char>('a' + i / 60) + "SAMESAME" +
                        static_cast<char>(i % 60));
  }
  for (int len = 0; len <= 12; len++) {
    user_keys.push_back(std::string(static_cast<size_t>(len), 'x'));
    user_keys.push_back(std::string("x") + std::string(static_cast<size_t>(len), '\0'));
  }
  std::sort(user_keys.begin(), user_keys.end());
  user_keys.erase(std::unique(user_keys.begin(), user_keys.end()), user_keys.end());
  Entries entries;
  std::vector<std::string> targets;
  for (const std::string& k : user_keys) {
    entries.emplace_back(IKey(k, 5), "v" + k);
    for (SequenceNumber seq : {kMaxSequenceNumber, SequenceNumber{5}, SequenceNumber{4}}) {
      targets.push_back(IKey(k, seq));
      targets.push_back(IKey(k + '\0', seq));
      if (!k.empty()) targets.push_back(IKey(k.substr(0, k.size() - 1), seq));
    }
  }
  // Outside the shared prefix "x", short and long: only the prefix check keeps these off the
  // fences (a long one would otherwise be searched by the bytes after "w" or "y").
  for (const char* foreign :
       {"", "w", "y", "x\xff", "wzzzzzzzzzzzz", "y\x01\x01\x01\x01\x01\x01\x01\x01\x01"}) {
    targets.push_back(IKey(foreign, 1));
  }
  EXPECT_GT(ExpectGetFindsFirstEntryAtOrAfter(entries, targets), 10u);
}

// After a stretch of incompressible blocks the builder stops trying lz4 for a while; data that
// compresses again must still be compressed (within a few blocks), and every entry must read back.
TEST(TableCompressionTest, CompressibleDataAfterIncompressibleStillCompresses) {
  Random rnd(Seed());
  Entries entries;
  for (int i = 0; i < 4000; i++) {
    char user_key[32];
    std::snprintf(user_key, sizeof(user_key), "key%07d", i);
    std::string value(200, 'a' + i % 26);  // compressible
    if (i < 1000 || (i >= 2000 && i < 2500)) {
      for (char& c : value) c = static_cast<char>(rnd.Next64());  // incompressible
    }
    entries.emplace_back(IKey(user_key, 1), value);
  }
  uint64_t sizes[2];
  for (Compression compression : {Compression::kNone, Compression::kLz4}) {
    Options options;
    options.compression = compression;
    options.block_bytes = 1024;
    std::string data;
    std::unique_ptr<Table> table;
    ASSERT_NO_FATAL_FAILURE(BuildAndOpen(options, entries, /*mapped=*/false, &data, &table));
    sizes[compression == Compression::kLz4] = data.size();
    std::unique_ptr<InternalIterator> it(table->NewIterator(ReadOptions()));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), n++) {
      ASSERT_LT(n, entries.size());
      ASSERT_EQ(entries[n].first, it->key());
      ASSERT_EQ(entries[n].second, it->value());
    }
    EXPECT_TRUE(it->status().ok());
    EXPECT_EQ(entries.size(), n);
  }
  // 2,500 compressible values of 200 bytes (500 KB) shrink to almost nothing; allow a few blocks'
  // worth of them to go uncompressed after each incompressible stretch.
  EXPECT_LT(sizes[1] + 400 * 1000, sizes[0]) << "lz4 " << sizes[1] << " vs none " << sizes[0];
}

}  // namespace
}  // namespace lightning
