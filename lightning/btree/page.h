// Page: the B+Tree engine's on-disk unit, and the grammar of every page kind.
//
// The page file is an array of kPageBytes pages; page N lives at byte
// N * kPageBytes. Every page starts with the same header:
//
//   header    := crc:fixed32       masked CRC32C of bytes [4, kPageBytes)
//                type:u8           PageType
//                reserved:u8       zero
//                count:fixed16     cells (branch, leaf) or runs (free list); else 0
//                page_id:fixed64   the page's own number: a misplaced page is caught
//                txn:fixed64       the transaction that wrote the page
//
// Pages 0 and 1 are the meta pages; meta page (txn % 2) holds the meta of
// transaction txn. Invariant: every other page below the newest durable meta's
// page_count is reachable from it exactly once -- as a tree node, as one page
// of an overflow run, or as one page of the free list -- or is named in its
// free list, never both. Copy-on-write keeps every page that meta reaches
// intact until a newer meta is durable.
//
// Branch and leaf pages ("nodes") are slotted; cells follow the slot array:
//
//   node       := header slot{count} cell{count} zero-padding
//   slot       := fixed16           offset of the cell within the page
//   leaf cell  := flags:u8 key_bytes:varint32 value_bytes:varint32 key_part value_part
//   branch cell:= flags:u8 key_bytes:varint32 key_part child:fixed64
//   key_part   := key{key_bytes}                            flags & kKeyOverflow == 0
//               | key_prefix{kKeyPrefixBytes} run:fixed64   flags & kKeyOverflow
//   value_part := value{value_bytes}                        flags & kValueOverflow == 0
//               | run:fixed64                               flags & kValueOverflow
//
// A node holds at least one cell; cells are in strictly increasing key order
// (bytewise, then shorter first). In a branch, cell 0's key is empty and is
// not compared: child i holds the keys k with key(i) <= k < key(i+1). Leaves
// are at level 1, a branch at level h points to nodes at level h - 1, and the
// root is at the meta's height.
//
// A key longer than kMaxInlineKeyBytes, or a value that does not fit inline
// (InlineValueFits), lives in an overflow run: ceil(n / kOverflowPayloadBytes)
// consecutive pages starting at `run`, page i holding bytes
// [i * kOverflowPayloadBytes, ...) of it after its header, zero-padded.
//
//   overflow   := header payload{kOverflowPayloadBytes}
//   free list  := header next:fixed64 run{count}   a chain from meta.free_list; 0 ends it
//   run        := first:fixed64 pages:fixed64      sorted, disjoint, pages >= 1
//   meta       := header magic:fixed64 version:fixed32 page_bytes:fixed32 root:fixed64
//                 height:fixed32 free_list:fixed64 page_count:fixed64 log_number:fixed64
//                 last_sequence:fixed64 entries:fixed64 zero-padding
//
// Everything here is a pure function over bytes: decoders check every offset
// and length against the page and return Corruption, whatever the bytes say.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/status.h"
#include "lightning/util/coding.h"

namespace lightning::btree {

using PageId = uint64_t;

inline constexpr size_t kPageBytes = 4096;
inline constexpr size_t kPageHeaderBytes = 24;
inline constexpr size_t kOverflowPayloadBytes = kPageBytes - kPageHeaderBytes;
inline constexpr PageId kFirstDataPage = 2;  // pages 0 and 1 are the meta pages
// Keys up to this length are stored in the cell; longer ones keep their first
// kKeyPrefixBytes in the cell (most comparisons end there) and the whole key
// in an overflow run. Small enough that a branch always holds 7 cells.
inline constexpr size_t kMaxInlineKeyBytes = 512;
inline constexpr size_t kKeyPrefixBytes = 64;
// The most bytes of key_part + value a leaf cell keeps inline: any two such
// cells fit in one leaf, so a split always leaves each half non-empty.
inline constexpr size_t kMaxInlinePayloadBytes = 1900;
inline constexpr uint64_t kMetaMagic = 0x3174427468676c4cull;  // "LlghtBt1" little-endian
inline constexpr uint32_t kFormatVersion = 1;

enum class PageType : uint8_t { kMeta = 1, kBranch = 2, kLeaf = 3, kOverflow = 4, kFreeList = 5 };
const char* PageTypeName(PageType type);

enum CellFlags : uint8_t { kKeyOverflow = 1, kValueOverflow = 2 };

inline uint64_t OverflowPages(uint64_t bytes) {
  return bytes == 0 ? 0 : (bytes + kOverflowPayloadBytes - 1) / kOverflowPayloadBytes;
}
inline bool KeyInline(size_t key_bytes) { return key_bytes <= kMaxInlineKeyBytes; }
// Whether a value of value_bytes stays in a leaf cell whose key part (the key,
// or its prefix and run) takes key_part_bytes.
inline bool InlineValueFits(size_t key_part_bytes, size_t value_bytes) {
  return key_part_bytes + value_bytes <= kMaxInlinePayloadBytes;
}

// --- Header ------------------------------------------------------------------

struct PageHeader {
  PageType type = PageType::kLeaf;
  uint16_t count = 0;
  PageId page_id = 0;
  uint64_t txn = 0;
};

// Writes the header into page[0, kPageHeaderBytes), leaving the crc for SealPage.
void EncodeHeader(const PageHeader& h, char* page);
// Computes and stores the page's checksum: the last step of building a page.
void SealPage(char* page);
bool ChecksumMatches(const char* page);
// Decodes the header without checking the checksum or the type's range.
PageHeader DecodeHeader(const char* page);
// The checksum, then the header: the page is `id` and of `type`, and no newer
// than `max_txn` (a page written after the meta that reaches it is a stale
// or reused page). Corruption names the page and what is wrong.
Status CheckPage(const char* page, PageId id, PageType type, uint64_t max_txn,
                 bool verify_checksum = true);

// --- Nodes (branch and leaf pages) ---------------------------------------------

// One decoded cell. Views point into the page (or into the builder's input).
struct Cell {
  std::string_view key;    // the whole key, or its first kKeyPrefixBytes if key_run != 0
  uint32_t key_bytes = 0;  // the whole key's length
  PageId key_run = 0;      // first page of the key's overflow run; 0: inline
  std::string_view value;  // leaf: the inline value
  uint32_t value_bytes = 0;
  PageId value_run = 0;  // leaf: first page of the value's overflow run; 0: inline
  PageId child = 0;      // branch: the child page
};

// A read-only view of a branch or leaf page. Init checks the header's layout;
// CellAt checks each cell as it decodes it, so a damaged page gives
// Corruption, never an out-of-bounds read.
class NodeView {
 public:
  Status Init(const char* page, PageId id);
  bool leaf() const { return type_ == PageType::kLeaf; }
  int count() const { return count_; }
  // *end (if not null): the offset just past the cell's bytes.
  Status CellAt(int i, Cell* cell, size_t* end = nullptr) const;
  // Only cell i's key (key, key_bytes, key_run): what a binary search
  // compares, at a fraction of CellAt's cost. Checked like CellAt (a damaged
  // cell gets CellAt's Corruption); the other fields are left unset.
  Status KeyAt(int i, Cell* c) const {
    if (InlineKey(i, &c->key)) {
      c->key_bytes = static_cast<uint32_t>(c->key.size());
      c->key_run = 0;
      return Status::OK();
    }
    return KeyAtSlow(i, c);
  }
  // The child of branch cell i when its key is inline and short (InlineKey's
  // case) and the child id is a data page; 0 otherwise (use CellAt).
  PageId InlineChild(int i) const {
    std::string_view key;
    if (leaf() || !InlineKey(i, &key)) return 0;
    const size_t end = static_cast<size_t>(key.data() + key.size() - page_);
    if (end + 8 > kPageBytes) return 0;
    const PageId child = DecodeFixed64(page_ + end);
    return child >= kFirstDataPage ? child : 0;
  }
  // The common case of KeyAt, inline: true and *key if cell i's key is
  // inline and shorter than 128 bytes and its bytes lie inside the page;
  // false otherwise (use KeyAt).
  bool InlineKey(int i, std::string_view* key) const {
    const size_t offset = SlotOffset(i);
    const auto* p = reinterpret_cast<const unsigned char*>(page_ + offset);
    if (offset < kPageHeaderBytes + 2 * size_t(count_) || offset + 8 > kPageBytes ||
        (p[0] & kKeyOverflow) != 0 || p[1] >= 0x80) {
      return false;
    }
    size_t at = 2;
    if (leaf()) {  // skip the value length's varint (at most 5 bytes)
      while (at < 7 && (p[at] & 0x80) != 0) at++;
      if (at++ == 7) return false;
    }
    if (offset + at + p[1] > kPageBytes) return false;
    *key = std::string_view(page_ + offset + at, p[1]);
    return true;
  }
  // The offset of cell i (slot i), unchecked.
  size_t SlotOffset(int i) const { return DecodeFixed16(page_ + kPageHeaderBytes + 2 * size_t(i)); }

 private:
  Status KeyAtSlow(int i, Cell* cell) const;

  const char* page_ = nullptr;
  PageId id_ = 0;
  PageType type_ = PageType::kLeaf;
  int count_ = 0;
};

// Appends the cell's encoding (the grammar's leaf or branch cell) to *dst.
void EncodeCell(PageType type, const Cell& cell, std::string* dst);
// Bytes a cell takes in a node, its slot included.
size_t NodeCellBytes(PageType type, const Cell& cell);
inline constexpr size_t kNodeCapacityBytes = kPageBytes - kPageHeaderBytes;

// Builds one node page from cells given in key order.
class NodeBuilder {
 public:
  explicit NodeBuilder(PageType type) : type_(type) {}
  PageType type() const { return type_; }
  int count() const { return static_cast<int>(offsets_.size()); }
  // Bytes used so far after the header: slots and cells.
  size_t bytes() const { return 2 * offsets_.size() + cells_.size(); }
  bool Fits(const Cell& cell) const {
    return bytes() + NodeCellBytes(type_, cell) <= kNodeCapacityBytes;
  }
  // REQUIRES: Fits(cell), and cell's key above the previous cell's.
  void Add(const Cell& cell);
  // Writes the node, its header included, into page[0, kPageBytes). The
  // checksum is left for SealPage: the pager seals each page when it writes
  // it, so a page edited again before then is not hashed twice.
  // REQUIRES: count() >= 1.
  void Finish(PageId id, uint64_t txn, char* page) const;
  void Reset() {
    offsets_.clear();
    cells_.clear();
  }

 private:
  PageType type_;
  std::vector<uint16_t> offsets_;  // of each cell within cells_
  std::string cells_;
};

// --- Overflow, free list, meta ---------------------------------------------------

// Writes page `index` of the run holding `data` (zero-padded), sealed.
void EncodeOverflowPage(PageId id, uint64_t txn, std::string_view data, uint64_t index, char* page);

struct FreeRun {
  PageId first = 0;
  uint64_t pages = 0;
  bool operator==(const FreeRun&) const = default;
};
inline constexpr size_t kFreeRunsPerPage = (kPageBytes - kPageHeaderBytes - 8) / 16;

// REQUIRES: runs.size() <= kFreeRunsPerPage.
void EncodeFreeListPage(PageId id, uint64_t txn, PageId next, const FreeRun* runs, size_t n,
                        char* page);
// Appends the page's runs to *runs. Corruption if a run is empty or the count
// does not fit the page.
Status DecodeFreeListPage(const char* page, PageId id, PageId* next, std::vector<FreeRun>* runs);

// The state a commit makes durable. See the grammar above.
struct Meta {
  uint64_t txn = 0;
  PageId root = 0;                       // 0: the tree is empty
  uint32_t height = 0;                   // 0 when empty; 1: the root is a leaf
  PageId free_list = 0;                  // first free-list page; 0: none
  uint64_t page_count = kFirstDataPage;  // pages at or past this are free
  uint64_t log_number = 0;               // the write-ahead log replay starts at
  uint64_t last_sequence = 0;            // the last write the tree holds
  uint64_t entries = 0;                  // keys in the tree
};

// Writes meta page (meta.txn % 2), sealed.
void EncodeMetaPage(const Meta& meta, char* page);
// Checks the checksum, the header, the magic, the version and the page size,
// and that the fields are consistent (root and free list below page_count,
// height zero exactly when the tree is empty).
Status DecodeMetaPage(const char* page, PageId id, Meta* meta);

}  // namespace lightning::btree
