#include "lightning/btree/page.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace lightning::btree {
namespace {

Cell LeafCell(std::string_view key, std::string_view value) {
  Cell c;
  c.key = key;
  c.key_bytes = static_cast<uint32_t>(key.size());
  c.value = value;
  c.value_bytes = static_cast<uint32_t>(value.size());
  return c;
}

TEST(PageTest, LeafRoundTripWithInlineAndOverflowCells) {
  const std::string long_key(600, 'k');
  NodeBuilder b(PageType::kLeaf);
  b.Add(LeafCell("", "empty key"));
  b.Add(LeafCell("a", ""));
  Cell big = LeafCell("b", "");
  big.value_bytes = 100000;
  big.value_run = 77;
  b.Add(big);
  Cell long_cell = LeafCell(long_key, "v");
  long_cell.key_run = 90;
  b.Add(long_cell);
  char page[kPageBytes];
  b.Finish(12, 34, page);
  SealPage(page);

  EXPECT_TRUE(ChecksumMatches(page));
  EXPECT_TRUE(CheckPage(page, 12, PageType::kLeaf, 34).ok());
  NodeView view;
  ASSERT_TRUE(view.Init(page, 12).ok());
  ASSERT_EQ(4, view.count());
  EXPECT_TRUE(view.leaf());
  Cell c;
  ASSERT_TRUE(view.CellAt(0, &c).ok());
  EXPECT_EQ("", c.key);
  EXPECT_EQ("empty key", c.value);
  ASSERT_TRUE(view.CellAt(1, &c).ok());
  EXPECT_EQ("a", c.key);
  EXPECT_EQ("", c.value);
  EXPECT_EQ(0u, c.value_run);
  ASSERT_TRUE(view.CellAt(2, &c).ok());
  EXPECT_EQ(77u, c.value_run);
  EXPECT_EQ(100000u, c.value_bytes);
  ASSERT_TRUE(view.CellAt(3, &c).ok());
  EXPECT_EQ(600u, c.key_bytes);
  EXPECT_EQ(90u, c.key_run);
  EXPECT_EQ(long_key.substr(0, kKeyPrefixBytes), c.key);
  EXPECT_EQ("v", c.value);
}

TEST(PageTest, BranchRoundTrip) {
  NodeBuilder b(PageType::kBranch);
  for (int i = 0; i < 3; i++) {
    Cell c;
    std::string key = i == 0 ? "" : std::string(1, static_cast<char>('a' + i));
    c.key = key;
    c.key_bytes = static_cast<uint32_t>(key.size());
    c.child = 100 + i;
    b.Add(c);
  }
  char page[kPageBytes];
  b.Finish(5, 6, page);
  NodeView view;
  ASSERT_TRUE(view.Init(page, 5).ok());
  EXPECT_FALSE(view.leaf());
  for (int i = 0; i < 3; i++) {
    Cell c;
    ASSERT_TRUE(view.CellAt(i, &c).ok());
    EXPECT_EQ(100u + i, c.child);
  }
}

TEST(PageTest, HeaderChecksCatchMisplacedStaleAndWrongPages) {
  NodeBuilder b(PageType::kLeaf);
  b.Add(LeafCell("k", "v"));
  char page[kPageBytes];
  b.Finish(9, 20, page);
  SealPage(page);
  EXPECT_TRUE(CheckPage(page, 9, PageType::kLeaf, 20).ok());
  EXPECT_TRUE(CheckPage(page, 8, PageType::kLeaf, 20).IsCorruption());    // misplaced
  EXPECT_TRUE(CheckPage(page, 9, PageType::kBranch, 20).IsCorruption());  // wrong type
  EXPECT_TRUE(CheckPage(page, 9, PageType::kLeaf, 19).IsCorruption());    // newer than its meta
  page[kPageBytes - 1] ^= 1;
  Status s = CheckPage(page, 9, PageType::kLeaf, 20);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(std::string::npos, s.ToString().find("page 9")) << s.ToString();
  EXPECT_TRUE(CheckPage(page, 9, PageType::kLeaf, 20, /*verify_checksum=*/false).ok());
}

// Every single-byte change to a node's layout gives Corruption or a valid
// decode, never an out-of-bounds read (ASan watches).
TEST(PageTest, DamagedNodeDecodesSafely) {
  NodeBuilder b(PageType::kLeaf);
  for (int i = 0; i < 20; i++) {
    std::string key = "key" + std::to_string(100 + i);
    b.Add(LeafCell(key, std::string(50, 'v')));
  }
  char original[kPageBytes];
  b.Finish(3, 1, original);
  SealPage(original);
  int corruptions = 0;
  for (size_t pos = 4; pos < 400; pos++) {
    for (int bit : {0, 7}) {
      char page[kPageBytes];
      std::memcpy(page, original, kPageBytes);
      page[pos] = static_cast<char>(page[pos] ^ (1 << bit));
      NodeView view;
      Status s = view.Init(page, 3);
      for (int i = 0; s.ok() && i < view.count(); i++) {
        Cell c;
        s = view.CellAt(i, &c);
      }
      if (!s.ok()) {
        EXPECT_TRUE(s.IsCorruption()) << s.ToString();
        corruptions++;
      }
    }
  }
  EXPECT_GT(corruptions, 0);
}

TEST(PageTest, OverflowPagesCarryTheirSlice) {
  std::string data(kOverflowPayloadBytes + 10, 'x');
  data[kOverflowPayloadBytes] = 'y';
  ASSERT_EQ(2u, OverflowPages(data.size()));
  char page[kPageBytes];
  EncodeOverflowPage(40, 2, data, 1, page);
  EXPECT_TRUE(CheckPage(page, 40, PageType::kOverflow, 2).ok());
  EXPECT_EQ('y', page[kPageHeaderBytes]);
  EXPECT_EQ(0, page[kPageHeaderBytes + 10]);  // zero-padded
}

TEST(PageTest, FreeListRoundTripAndDamage) {
  FreeRun runs[] = {{2, 1}, {10, 5}, {100, 1000}};
  char page[kPageBytes];
  EncodeFreeListPage(7, 3, 8, runs, 3, page);
  PageId next = 0;
  std::vector<FreeRun> got;
  ASSERT_TRUE(DecodeFreeListPage(page, 7, &next, &got).ok());
  EXPECT_EQ(8u, next);
  ASSERT_EQ(3u, got.size());
  EXPECT_EQ(runs[1], got[1]);
  // An empty run is malformed.
  std::memset(page + kPageHeaderBytes + 8 + 16 + 8, 0, 8);
  got.clear();
  EXPECT_TRUE(DecodeFreeListPage(page, 7, &next, &got).IsCorruption());
}

TEST(PageTest, MetaRoundTripAndValidation) {
  Meta m;
  m.txn = 11;
  m.root = 5;
  m.height = 2;
  m.free_list = 9;
  m.page_count = 10;
  m.log_number = 4;
  m.last_sequence = 1234;
  m.entries = 99;
  char page[kPageBytes];
  EncodeMetaPage(m, page);
  Meta got;
  ASSERT_TRUE(DecodeMetaPage(page, 1, &got).ok());  // txn 11 lives in meta page 1
  EXPECT_EQ(m.root, got.root);
  EXPECT_EQ(m.last_sequence, got.last_sequence);
  EXPECT_EQ(m.entries, got.entries);
  EXPECT_TRUE(DecodeMetaPage(page, 0, &got).IsCorruption());

  Meta bad = m;
  bad.root = 10;  // at page_count
  EncodeMetaPage(bad, page);
  EXPECT_TRUE(DecodeMetaPage(page, 1, &got).IsCorruption());
  bad = m;
  bad.height = 0;  // a root without a height
  EncodeMetaPage(bad, page);
  EXPECT_TRUE(DecodeMetaPage(page, 1, &got).IsCorruption());

  EncodeMetaPage(m, page);
  page[100] ^= 4;
  EXPECT_TRUE(DecodeMetaPage(page, 1, &got).IsCorruption());
}

}  // namespace
}  // namespace lightning::btree
