#include "lightning/write_batch.h"

#include <gtest/gtest.h>

#include <string>

#include "lightning/db.h"
#include "lightning/db/write_batch_internal.h"

namespace lightning {
namespace {

// Records every operation as text, e.g. "Put(a, 1) Delete(b) ".
class Recorder : public WriteBatch::Handler {
 public:
  void Put(std::string_view key, std::string_view value) override {
    log += "Put(" + std::string(key) + ", " + std::string(value) + ") ";
  }
  void Delete(std::string_view key) override { log += "Delete(" + std::string(key) + ") "; }
  std::string log;
};

std::string Replay(const WriteBatch& batch) {
  Recorder r;
  Status s = batch.Iterate(&r);
  return s.ok() ? r.log : s.ToString();
}

TEST(WriteBatchTest, Empty) {
  WriteBatch batch;
  EXPECT_EQ(batch.Count(), 0u);
  EXPECT_EQ(WriteBatchInternal::ByteSize(&batch), WriteBatchInternal::kHeaderBytes);
  EXPECT_EQ(Replay(batch), "");
}

TEST(WriteBatchTest, OperationsInOrder) {
  WriteBatch batch;
  batch.Put("foo", "bar");
  batch.Delete("box");
  batch.Put("baz", "");
  batch.Put("", "empty key");
  WriteBatchInternal::SetSequence(&batch, 100);
  EXPECT_EQ(batch.Count(), 4u);
  EXPECT_EQ(WriteBatchInternal::Sequence(&batch), 100u);
  EXPECT_EQ(Replay(batch), "Put(foo, bar) Delete(box) Put(baz, ) Put(, empty key) ");

  WriteBatch copy;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&copy, WriteBatchInternal::Contents(&batch)).ok());
  EXPECT_EQ(WriteBatchInternal::Sequence(&copy), 100u);
  EXPECT_EQ(Replay(copy), Replay(batch));

  batch.Clear();
  EXPECT_EQ(batch.Count(), 0u);
  EXPECT_EQ(WriteBatchInternal::Sequence(&batch), 0u);
  EXPECT_EQ(Replay(batch), "");
}

TEST(WriteBatchTest, Append) {
  WriteBatch a, b;
  WriteBatchInternal::SetSequence(&a, 200);
  WriteBatchInternal::SetSequence(&b, 300);
  WriteBatchInternal::Append(&a, &b);
  EXPECT_EQ(Replay(a), "");
  b.Put("a", "va");
  WriteBatchInternal::Append(&a, &b);
  EXPECT_EQ(Replay(a), "Put(a, va) ");
  b.Clear();
  b.Put("b", "vb");
  b.Delete("c");
  WriteBatchInternal::Append(&a, &b);
  EXPECT_EQ(a.Count(), 3u);
  EXPECT_EQ(WriteBatchInternal::Sequence(&a), 200u);
  EXPECT_EQ(Replay(a), "Put(a, va) Put(b, vb) Delete(c) ");
}

TEST(WriteBatchTest, SetContentsRejectsShortHeader) {
  WriteBatch batch;
  EXPECT_TRUE(WriteBatchInternal::SetContents(&batch, std::string(11, '\0')).IsCorruption());
  EXPECT_TRUE(WriteBatchInternal::SetContents(&batch, std::string(12, '\0')).ok());
}

// Every truncation and every single-byte change of a valid batch is either
// rejected with Corruption before the handler sees anything, or decodes to a
// well-formed batch (a change inside a key or value).
TEST(WriteBatchTest, MalformedBytesAreCorruption) {
  WriteBatch batch;
  batch.Put("key1", "value1");
  batch.Delete("key2");
  batch.Put("k3", std::string(200, 'v'));  // a two-byte varint length
  std::string rep(WriteBatchInternal::Contents(&batch));
  for (size_t n = 0; n < rep.size(); n++) {
    WriteBatch cut;
    if (!WriteBatchInternal::SetContents(&cut, rep.substr(0, n)).ok()) continue;
    Recorder r;
    EXPECT_TRUE(cut.Iterate(&r).IsCorruption()) << "cut at " << n;
    EXPECT_EQ(r.log, "") << "cut at " << n;
  }
  for (size_t i = WriteBatchInternal::kHeaderBytes; i < rep.size(); i++) {
    for (int delta : {1, 0x80, 0xff}) {
      std::string damaged = rep;
      damaged[i] = static_cast<char>(damaged[i] + delta);
      WriteBatch b;
      ASSERT_TRUE(WriteBatchInternal::SetContents(&b, damaged).ok());
      Recorder r;
      Status s = b.Iterate(&r);
      if (!s.ok()) {
        EXPECT_TRUE(s.IsCorruption());
        EXPECT_EQ(r.log, "");
      }
    }
  }
}

TEST(WriteBatchTest, CountMustMatchRecords) {
  WriteBatch batch;
  batch.Put("a", "1");
  batch.Put("b", "2");
  WriteBatchInternal::SetCount(&batch, 3);
  Recorder r;
  Status s = batch.Iterate(&r);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_EQ(r.log, "");
  WriteBatchInternal::SetCount(&batch, 1);
  EXPECT_TRUE(batch.Iterate(&r).IsCorruption());
  EXPECT_TRUE(WriteBatchInternal::CheckLimits(&batch).IsCorruption());
}

TEST(WriteBatchTest, UnknownTypeIsCorruption) {
  WriteBatch batch;
  batch.Put("a", "1");
  std::string rep(WriteBatchInternal::Contents(&batch));
  rep[WriteBatchInternal::kHeaderBytes] = 7;
  ASSERT_TRUE(WriteBatchInternal::SetContents(&batch, rep).ok());
  Recorder r;
  Status s = batch.Iterate(&r);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("byte 12"), std::string::npos) << s.message();
}

TEST(WriteBatchTest, CheckLimits) {
  WriteBatch batch;
  batch.Put(std::string(kMaxKeyBytes, 'k'), "v");
  batch.Delete(std::string(kMaxKeyBytes, 'd'));
  EXPECT_TRUE(WriteBatchInternal::CheckLimits(&batch).ok());

  WriteBatch long_key;
  long_key.Delete(std::string(kMaxKeyBytes + 1, 'k'));
  EXPECT_TRUE(WriteBatchInternal::CheckLimits(&long_key).IsInvalidArgument());

  WriteBatch long_value;
  long_value.Put("k", std::string(kMaxValueBytes + 1, 'v'));
  EXPECT_TRUE(WriteBatchInternal::CheckLimits(&long_value).IsInvalidArgument());

  WriteBatch max_value;
  max_value.Put("k", std::string(kMaxValueBytes, 'v'));
  EXPECT_TRUE(WriteBatchInternal::CheckLimits(&max_value).ok());

  // Four values at the limit make a batch just over 1 GiB.
  WriteBatch one_value = max_value;
  for (int i = 0; i < 3; i++) WriteBatchInternal::Append(&max_value, &one_value);
  EXPECT_EQ(max_value.Count(), 4u);
  EXPECT_GT(WriteBatchInternal::ByteSize(&max_value), kMaxBatchBytes);
  EXPECT_TRUE(WriteBatchInternal::CheckLimits(&max_value).IsInvalidArgument());
}

}  // namespace
}  // namespace lightning
