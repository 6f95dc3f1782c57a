#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "lightning/util/random.h"
#include "lightning/wal/log_format.h"
#include "lightning/wal/log_reader.h"
#include "lightning/wal/log_writer.h"

namespace lightning::log {
namespace {

class StringDest : public WritableFile {
 public:
  explicit StringDest(std::string* contents) : contents_(contents) {}
  Status Append(std::string_view data) override {
    appends_++;
    contents_->append(data);
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  int appends_ = 0;

 private:
  std::string* contents_;
};

class StringSource : public SequentialFile {
 public:
  explicit StringSource(std::string_view contents) : contents_(contents) {}
  Status Read(size_t n, char* scratch, std::string_view* result) override {
    n = std::min(n, contents_.size());
    std::memcpy(scratch, contents_.data(), n);
    *result = std::string_view(scratch, n);
    contents_.remove_prefix(n);
    return Status::OK();
  }
  Status Skip(uint64_t n) override {
    contents_.remove_prefix(std::min<uint64_t>(n, contents_.size()));
    return Status::OK();
  }

 private:
  std::string_view contents_;
};

uint64_t TestSeed() {
  const char* env = std::getenv("LIGHTNING_SEED");
  uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::time(nullptr);
  std::printf("LIGHTNING_SEED=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

std::string Pattern(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>(seed + i * 7 + (i >> 8));
  return s;
}

struct ReadResult {
  std::vector<std::string> records;
  std::vector<uint64_t> offsets;
  Status status;
  std::optional<uint64_t> tail_damage;
  uint64_t end_of_records = 0;
};

class LogTest : public ::testing::Test {
 protected:
  // Returns the offset where the record starts (after any block padding).
  uint64_t Write(std::string_view payload) {
    uint64_t before = writer_.size();
    EXPECT_TRUE(writer_.AddRecord(payload).ok());
    uint64_t left = kBlockBytes - before % kBlockBytes;
    return left < kHeaderBytes ? before + left : before;
  }
  void Sync() { ASSERT_TRUE(writer_.Sync().ok()); }

  static ReadResult Read(std::string_view contents) {
    StringSource source(contents);
    Reader reader(&source, "000007.log");
    ReadResult r;
    std::string record;
    while (reader.ReadRecord(&record)) {
      r.records.push_back(record);
      r.offsets.push_back(reader.last_record_offset());
    }
    EXPECT_FALSE(reader.ReadRecord(&record));  // stays stopped
    r.status = reader.status();
    r.tail_damage = reader.tail_damage_offset();
    r.end_of_records = reader.end_of_records();
    return r;
  }

  std::string file_;
  StringDest dest_{&file_};
  Writer writer_{&dest_};
};

TEST_F(LogTest, EmptyLog) {
  ReadResult r = Read(file_);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.status.ok());
  EXPECT_FALSE(r.tail_damage.has_value());
}

TEST_F(LogTest, RoundTripSizes) {
  // The one-byte synced_offset prefix makes kBlockBytes - kHeaderBytes - 1 fill
  // a block exactly; the neighbours leave 0, 1 and 7 bytes of tail.
  std::vector<size_t> sizes = {0,
                               1,
                               100,
                               kBlockBytes - kHeaderBytes - 1,
                               kBlockBytes - kHeaderBytes - 2,
                               kBlockBytes - 2 * kHeaderBytes,
                               kBlockBytes,
                               100 << 10,
                               1 << 20,
                               kBlockBytes - kHeaderBytes - 7,
                               3,
                               0};
  std::vector<std::string> expected;
  std::vector<uint64_t> offsets;
  for (size_t i = 0; i < sizes.size(); i++) {
    expected.push_back(Pattern(sizes[i], static_cast<char>(i)));
    offsets.push_back(Write(expected.back()));
  }
  EXPECT_EQ(dest_.appends_, static_cast<int>(sizes.size()));  // one Append per record
  EXPECT_EQ(writer_.size(), file_.size());
  ReadResult r = Read(file_);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.tail_damage.has_value());
  EXPECT_EQ(r.records, expected);
  EXPECT_EQ(r.offsets, offsets);
}

// A buffered writer hands records over only when the buffer is full, on
// Flush and on Sync, whole and in order; the file then reads exactly like an
// unbuffered writer's.
TEST_F(LogTest, BufferedWriterWritesWholeRecordsWhenFullOrSynced) {
  std::string file;
  StringDest dest(&file);
  Writer writer(&dest, /*buffer_bytes=*/1000);
  std::vector<std::string> expected;
  for (int i = 0; i < 3; i++) {
    expected.push_back(Pattern(300, static_cast<char>(i)));
    ASSERT_TRUE(writer.AddRecord(expected.back()).ok());
  }
  EXPECT_TRUE(file.empty());  // 3 x 308 bytes: below the buffer size
  expected.push_back(Pattern(300, 3));
  ASSERT_TRUE(writer.AddRecord(expected.back()).ok());  // now over 1000 bytes: written out
  EXPECT_EQ(dest.appends_, 1);
  EXPECT_EQ(file.size(), writer.size());
  expected.push_back(Pattern(5, 4));
  ASSERT_TRUE(writer.AddRecord(expected.back()).ok());
  EXPECT_LT(file.size(), writer.size());
  ASSERT_TRUE(writer.Flush().ok());
  EXPECT_EQ(file.size(), writer.size());
  expected.push_back(Pattern(100 << 10, 5));  // larger than the buffer: spans blocks
  ASSERT_TRUE(writer.AddRecord(expected.back()).ok());
  expected.push_back(Pattern(7, 6));
  ASSERT_TRUE(writer.AddRecord(expected.back()).ok());
  ASSERT_TRUE(writer.Sync().ok());
  EXPECT_EQ(file.size(), writer.size());
  ReadResult r = Read(file);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.tail_damage.has_value());
  EXPECT_EQ(r.records, expected);

  // What a process crash leaves (the file without the buffer) is a prefix of
  // the records.
  ASSERT_TRUE(writer.AddRecord(Pattern(10, 7)).ok());
  r = Read(file);
  EXPECT_EQ(r.records, expected);
}

TEST_F(LogTest, BlockTailIsZeroPadding) {
  // Two records of header + one-byte prefix + payload leave 3 bytes in the block.
  Write(Pattern(kBlockBytes - 2 * (kHeaderBytes + 1) - 3, 'a'));
  Write("");
  uint64_t third = Write("third");
  EXPECT_EQ(third, kBlockBytes);
  EXPECT_EQ(file_.substr(kBlockBytes - 3, 3), std::string(3, '\0'));
  EXPECT_EQ(Read(file_).records.size(), 3u);
  file_[kBlockBytes - 2] = 'x';  // padding must be zeros
  ReadResult r = Read(file_);
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.tail_damage, std::optional<uint64_t>(kBlockBytes - 3));
}

TEST_F(LogTest, RandomRecords) {
  Random rnd(TestSeed());
  std::vector<std::string> expected;
  for (int i = 0; i < 400; i++) {
    size_t max_bytes = rnd.OneIn(10) ? 3 * kBlockBytes : (rnd.OneIn(2) ? 64 : 2000);
    std::string payload(rnd.Uniform(max_bytes + 1), '\0');
    for (char& c : payload) c = static_cast<char>(rnd.Next64());
    expected.push_back(payload);
    Write(payload);
    if (rnd.OneIn(5)) Sync();
  }
  ReadResult r = Read(file_);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.tail_damage.has_value());
  EXPECT_EQ(r.records, expected);
}

// A power loss cuts the unsynced last record anywhere: the records before it
// come back, and the log opens cleanly.
TEST_F(LogTest, TornTailAtEveryOffset) {
  for (size_t last_bytes : {size_t{100}, 2 * kBlockBytes + 50}) {
    file_.clear();
    Writer writer(&dest_);
    ASSERT_TRUE(writer.AddRecord("one").ok());
    ASSERT_TRUE(writer.AddRecord(Pattern(kBlockBytes / 2, 'b')).ok());
    ASSERT_TRUE(writer.Sync().ok());
    uint64_t last_start = writer.size();
    ASSERT_TRUE(writer.AddRecord(Pattern(last_bytes, 'c')).ok());
    size_t step = last_bytes < 1000 ? 1 : 97;
    for (size_t cut = last_start; cut < file_.size(); cut += step) {
      ReadResult r = Read(std::string_view(file_).substr(0, cut));
      ASSERT_EQ(r.records.size(), 2u) << "cut at " << cut;
      ASSERT_TRUE(r.status.ok()) << "cut at " << cut << ": " << r.status.ToString();
      EXPECT_EQ(r.tail_damage, cut == last_start ? std::nullopt : std::optional(last_start))
          << "cut at " << cut;
    }
  }
}

TEST_F(LogTest, DamageNotFollowedBySyncedRecordsIsATornTail) {
  Write("first");
  Sync();
  uint64_t second = Write(Pattern(1000, 's'));
  Write("third");  // written before any Sync covering "second"
  Write(Pattern(3 * kBlockBytes, 'f'));
  file_[second + 500] ^= 0x10;
  ReadResult r = Read(file_);
  EXPECT_EQ(r.records, std::vector<std::string>{"first"});
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.tail_damage, std::optional(second));
}

TEST_F(LogTest, DamageFollowedBySyncedRecordIsCorruption) {
  Write("first");
  uint64_t second = Write(Pattern(1000, 's'));
  Sync();
  Write("third");  // says the log was durable through the end of "second"
  file_[second + 500] ^= 0x10;
  ReadResult r = Read(file_);
  EXPECT_EQ(r.records, std::vector<std::string>{"first"});
  ASSERT_TRUE(r.status.IsCorruption()) << r.status.ToString();
  EXPECT_NE(r.status.message().find("000007.log"), std::string::npos);
  EXPECT_NE(r.status.message().find("offset " + std::to_string(second)), std::string::npos)
      << r.status.message();
  EXPECT_FALSE(r.tail_damage.has_value());
}

// A record the caller rejects (a value it names elsewhere is bad) is judged
// as damage the reader found: torn if no later record proves it synced.
TEST_F(LogTest, RejectedRecordIsATornTailUnlessALaterRecordProvesItSynced) {
  for (bool synced : {false, true}) {
    file_.clear();
    Writer writer(&dest_);
    ASSERT_TRUE(writer.AddRecord("first").ok());
    ASSERT_TRUE(writer.Sync().ok());
    const uint64_t second = writer.size();
    ASSERT_TRUE(writer.AddRecord("second").ok());
    if (synced) ASSERT_TRUE(writer.Sync().ok());
    ASSERT_TRUE(writer.AddRecord("third").ok());
    StringSource source(file_);
    Reader reader(&source, "000007.log");
    std::string record;
    ASSERT_TRUE(reader.ReadRecord(&record));
    ASSERT_TRUE(reader.ReadRecord(&record));
    ASSERT_EQ(record, "second");
    reader.RejectLastRecord();
    EXPECT_FALSE(reader.ReadRecord(&record));
    if (synced) {
      ASSERT_TRUE(reader.status().IsCorruption()) << reader.status().ToString();
      EXPECT_NE(reader.status().message().find("offset " + std::to_string(second)),
                std::string::npos)
          << reader.status().message();
    } else {
      EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
      EXPECT_EQ(reader.tail_damage_offset(), std::optional(second));
    }
  }
}

TEST_F(LogTest, SyncedDamageInEarlierBlockIsCorruption) {
  uint64_t first = Write(Pattern(2 * kBlockBytes, 'x'));
  Sync();
  Write(Pattern(kBlockBytes, 'y'));
  Write("last");
  file_[first + kBlockBytes + 3] = 0;  // a MIDDLE fragment's checksum
  ReadResult r = Read(file_);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.status.IsCorruption()) << r.status.ToString();
}

// Unsynced sectors lost in a power loss read as zeros, while later sectors may
// survive: still a torn tail.
TEST_F(LogTest, ZeroedRangeInTail) {
  Write("first");
  Sync();
  uint64_t second = Write(Pattern(3000, 's'));
  Write(Pattern(200, 't'));
  for (auto [from, to] : {std::pair<size_t, size_t>{second + 512, second + 1024},
                          {second, second + 7},
                          {second, file_.size()},
                          {second + 10, file_.size()}}) {
    std::string damaged = file_;
    std::memset(damaged.data() + from, 0, to - from);
    ReadResult r = Read(damaged);
    EXPECT_EQ(r.records, std::vector<std::string>{"first"});
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.end_of_records, second);
    // Only zeros from a record's start to the end of the file: the log's end, not a torn tail.
    const bool zeros_to_end = from == second && to == file_.size();
    EXPECT_EQ(r.tail_damage, zeros_to_end ? std::nullopt : std::optional(second));
  }
}

// Space a writer reserved (Writer's reserve_bytes) reads as zeros after the records, whatever
// their length: the end of the log, in a block's padding, at a block boundary or blocks later.
TEST_F(LogTest, ZerosToTheEndOfTheFileAreTheEnd) {
  Write("first");
  Sync();
  Write(Pattern(40000, 's'));  // spans a block boundary
  const uint64_t end = writer_.size();
  for (size_t zeros : {size_t{1}, size_t{6}, size_t{7}, size_t{100},
                       kBlockBytes - end % kBlockBytes, kBlockBytes, 3 * kBlockBytes + 5}) {
    ReadResult r = Read(file_ + std::string(zeros, '\0'));
    EXPECT_EQ(r.records.size(), 2u) << zeros;
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_FALSE(r.tail_damage.has_value()) << zeros;
    EXPECT_EQ(r.end_of_records, end) << zeros;
  }
  // A byte after the zeros makes them damage again: a torn tail, as before.
  ReadResult r = Read(file_ + std::string(5000, '\0') + "x");
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.tail_damage, std::optional(end));
}

// A file that reserves like fallocate: the size runs ahead of the data, appends land at the end
// of the data.
class ReservingDest : public WritableFile {
 public:
  explicit ReservingDest(std::string* contents) : contents_(contents) {}
  Status Append(std::string_view data) override {
    contents_->resize(std::max(contents_->size(), data_end_ + data.size()), '\0');
    std::memcpy(contents_->data() + data_end_, data.data(), data.size());
    data_end_ += data.size();
    return Status::OK();
  }
  Status Sync() override { return Status::OK(); }
  Status Close() override { return Status::OK(); }
  void ReserveAhead(uint64_t bytes) override {
    reserves_++;
    if (contents_->size() < data_end_ + bytes) contents_->resize(data_end_ + bytes, '\0');
  }
  size_t data_end_ = 0;
  int reserves_ = 0;

 private:
  std::string* contents_;
};

TEST(LogReserveTest, WriterReservesAndEveryRecordReadsBack) {
  std::string file;
  ReservingDest dest(&file);
  Writer writer(&dest, /*buffer_bytes=*/0, /*reserve_bytes=*/4096);
  EXPECT_EQ(dest.reserves_, 1);  // at creation
  EXPECT_EQ(file.size(), 4096u);
  std::vector<std::string> written;
  for (size_t n : {size_t{10}, size_t{5000}, size_t{0}, size_t{70000}, size_t{3}}) {
    written.push_back(Pattern(n, static_cast<char>('a' + n % 26)));
    ASSERT_TRUE(writer.AddRecord(written.back()).ok());
    EXPECT_EQ(dest.data_end_, writer.size());
    EXPECT_GE(file.size(), dest.data_end_ + 4096 / 2);  // the reserve is kept ahead
    StringSource source(file);
    Reader reader(&source, "000009.log");
    std::vector<std::string> read;
    std::string record;
    while (reader.ReadRecord(&record)) read.push_back(record);
    EXPECT_EQ(read, written);
    EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
    EXPECT_FALSE(reader.tail_damage_offset().has_value());
    EXPECT_EQ(reader.end_of_records(), writer.size());
  }
  EXPECT_EQ(dest.reserves_, 6);
}

// Every single-bit flip in the middle of three synced records is detected,
// whether it hits the header or the data.
TEST_F(LogTest, FlippedBitInSyncedMiddleRecordIsCorruption) {
  Write("first record");
  Sync();
  uint64_t second = Write("second record");
  Sync();
  uint64_t third = Write("third record");
  Sync();
  Write(Pattern(kBlockBytes, 'n'));
  Write("in a later block: evidence even when the damage hits a length");
  for (uint64_t pos = second; pos < third; pos++) {
    for (int bit = 0; bit < 8; bit++) {
      std::string damaged = file_;
      damaged[pos] ^= static_cast<char>(1 << bit);
      ReadResult r = Read(damaged);
      ASSERT_EQ(r.records.size(), 1u) << "byte " << pos << " bit " << bit;
      ASSERT_TRUE(r.status.IsCorruption()) << "byte " << pos << " bit " << bit;
    }
  }
}

// Without a later block, the record after the damaged one (same block) is the
// only evidence: it must still be found when the damage spares the header.
TEST_F(LogTest, FlippedDataBitWithEvidenceInSameBlock) {
  Write("first record");
  Sync();
  uint64_t second = Write("second record");
  Sync();
  uint64_t third = Write("third record");
  Sync();
  for (uint64_t pos = second + kHeaderBytes; pos < third; pos++) {
    std::string damaged = file_;
    damaged[pos] ^= 0x01;
    ReadResult r = Read(damaged);
    EXPECT_EQ(r.records.size(), 1u);
    EXPECT_TRUE(r.status.IsCorruption()) << "byte " << pos;
  }
}

TEST_F(LogTest, MiddleFragmentWithoutFirstIsDamage) {
  Write("first");
  uint64_t big = Write(Pattern(2 * kBlockBytes, 'm'));
  std::string cut = file_.substr(0, big) + file_.substr(kBlockBytes);  // drop the FIRST
  ReadResult r = Read(cut);
  EXPECT_EQ(r.records, std::vector<std::string>{"first"});
  EXPECT_TRUE(r.status.ok());
  EXPECT_TRUE(r.tail_damage.has_value());
}

}  // namespace
}  // namespace lightning::log

namespace lightning::log {
namespace {

// Regression: with a multi-byte synced_offset prefix, a block with only 8 or 9
// bytes left puts a fragment's end inside the prefix; the writer once read the
// payload at a negative offset there. Every tail size from 0 to 16 is tried.
TEST_F(LogTest, FragmentEndingInsideSyncedOffsetPrefix) {
  Write(Pattern(1000, 1));
  Sync();  // synced_offset >= 128: a two-byte varint prefix from now on
  std::vector<std::string> expected = {Pattern(1000, 1)};
  for (size_t tail = 0; tail <= 16; tail++) {
    size_t used = writer_.size() % kBlockBytes;
    // Fill the block up to `tail` bytes before its end, then write across it.
    size_t fill = kBlockBytes - used - tail;
    if (fill < kHeaderBytes + 3) fill += kBlockBytes;
    expected.push_back(Pattern(fill - kHeaderBytes - 2, static_cast<char>(tail)));
    Write(expected.back());
    expected.push_back(Pattern(50, static_cast<char>(tail + 100)));
    Write(expected.back());
  }
  ReadResult r = Read(file_);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_FALSE(r.tail_damage.has_value());
  EXPECT_EQ(r.records, expected);
}

}  // namespace
}  // namespace lightning::log

namespace lightning::log {
namespace {

// Regression: a record starting exactly kHeaderBytes before a block's end gets
// an empty FIRST fragment; the writer once marked the next fragment FIRST too,
// which the reader rightly took for damage.
TEST_F(LogTest, EmptyFirstFragmentAtBlockEnd) {
  std::vector<std::string> expected = {Pattern(kBlockBytes - 2 * kHeaderBytes - 1, 3),
                                       Pattern(5000, 4), Pattern(10, 5)};
  for (const std::string& r : expected) Write(r);
  ASSERT_EQ(Read(file_).records, expected);
  Sync();
  expected.push_back(Pattern(3, 6));
  Write(expected.back());
  ReadResult r = Read(file_);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.records, expected);
}

}  // namespace
}  // namespace lightning::log
