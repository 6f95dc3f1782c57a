// fuzz_btree_page: libFuzzer target for the B+Tree page decoders of
// lightning/btree/page.h: CheckPage, NodeView::Init, CellAt and KeyAt,
// DecodeMetaPage and DecodeFreeListPage.
//
// Input: mode:u8 id:u8 page{kPageBytes}. Missing page bytes are zeros, bytes
// past the page are ignored. The page is copied into a buffer of exactly
// kPageBytes on the stack (as are the re-encoded pages: ASan's redzones
// around each, and no allocation per input), so any read past it is a
// sanitizer report. `mode` bit 0: seal the page (SealPage) before decoding,
// so that a mutated page still passes its checksum and the checks behind it
// are reached. `mode` bit 1: check the page as page `id` (0..255) instead of
// the id its header names, as a misplaced page is read. Every decoder runs on
// every input: the page as a tree node, as meta page 0 and 1, as a free-list
// page, as an overflow page, and through CheckPage as its header's type and
// as another type.
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report, no assertion; every failure is Corruption;
//  - CheckPage succeeds exactly when the checksum matches (if asked), the
//    header names the page id and type asked for, and its txn is at most the
//    one allowed;
//  - a decoded meta has the fields page.h promises (txn parity = page id,
//    root and free list below page_count, height 0 exactly when the tree is
//    empty); at most one of pages 0 and 1 decodes; EncodeMetaPage of it
//    decodes to the same fields, and gives back exactly the input page when
//    the input is sealed and canonical (count, reserved byte and padding zero);
//  - every cell that decodes lies inside the page and is self-consistent
//    (inline key and value sizes equal their lengths, overflow exactly when
//    the format says, runs and children >= kFirstDataPage); if every cell of a
//    node decodes, the keys ascend and NodeBuilder::Fits takes them all, the
//    node rebuilt from the cells with NodeBuilder passes CheckPage and its
//    cells decode to the same values;
//  - a decoded free list has `count` runs, none empty or wrapping, and
//    re-encodes (EncodeFreeListPage) to a page that decodes to the same runs
//    and next page, and to exactly the input page when that is sealed and
//    canonical;
//  - a sealed canonical overflow page is exactly EncodeOverflowPage of its
//    payload.
//
// Thread safety: libFuzzer calls this from one thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "lightning/btree/page.h"
#include "lightning/status.h"
#include "lightning/util/coding.h"

namespace lightning::btree {
namespace {

constexpr uint8_t kModeSeal = 1;
constexpr uint8_t kModeForeignId = 2;
constexpr size_t kControlBytes = 2;
// The bytes a meta page uses: the header, then magic, version, page_bytes,
// root, height, free_list, page_count, log_number, last_sequence, entries.
constexpr size_t kMetaBytes = kPageHeaderBytes + 68;
constexpr size_t kFreeListRunsOffset = kPageHeaderBytes + 8;

// A failed decode must say Corruption, never anything else.
bool Failed(const Status& s) {
  if (s.ok()) return false;
  if (!s.IsCorruption()) abort();
  return true;
}

bool Zeros(const char* p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (p[i] != 0) return false;
  }
  return true;
}

// Sealed, with a zero reserved byte and nothing but zeros past `used` bytes:
// the only form in which the encoders write a page.
bool Canonical(const char* page, size_t used) {
  return ChecksumMatches(page) && page[5] == 0 && Zeros(page + used, kPageBytes - used);
}

void FuzzCheckPage(const char* page, PageId id) {
  const PageHeader h = DecodeHeader(page);
  const bool sum_ok = ChecksumMatches(page);
  // The header's own type (valid or not) and another valid one.
  const auto other = static_cast<PageType>(static_cast<uint8_t>(h.type) % 5 + 1);
  for (PageType type : {h.type, other}) {
    for (uint64_t max_txn : {h.txn, h.txn - 1}) {
      const bool expect = h.page_id == id && h.type == type && h.txn <= max_txn;
      if (Failed(CheckPage(page, id, type, max_txn, /*verify_checksum=*/false)) == expect) abort();
    }
  }
  const bool expect = sum_ok && h.page_id == id;
  if (Failed(CheckPage(page, id, h.type, h.txn)) == expect) abort();
}

bool SameMeta(const Meta& a, const Meta& b) {
  return a.txn == b.txn && a.root == b.root && a.height == b.height && a.free_list == b.free_list &&
         a.page_count == b.page_count && a.log_number == b.log_number &&
         a.last_sequence == b.last_sequence && a.entries == b.entries;
}

// Returns whether the page decodes as meta page `id`.
bool FuzzMeta(const char* page, PageId id) {
  Meta m;
  if (Failed(DecodeMetaPage(page, id, &m))) return false;
  const PageHeader h = DecodeHeader(page);
  if (!ChecksumMatches(page) || h.type != PageType::kMeta || h.page_id != id) abort();
  if (m.txn != h.txn || m.txn % 2 != id) abort();
  if (DecodeFixed64(page + kPageHeaderBytes) != kMetaMagic) abort();
  if (m.page_count < kFirstDataPage || m.page_count > (uint64_t{1} << 40)) abort();
  if ((m.root == 0) != (m.height == 0)) abort();
  if (m.root != 0 && (m.root < kFirstDataPage || m.root >= m.page_count || m.height > 64)) abort();
  if (m.free_list != 0 && (m.free_list < kFirstDataPage || m.free_list >= m.page_count)) abort();

  char again[kPageBytes];
  EncodeMetaPage(m, again);
  Meta m2;
  if (!DecodeMetaPage(again, id, &m2).ok() || !SameMeta(m, m2)) abort();
  if (h.count == 0 && Canonical(page, kMetaBytes) && std::memcmp(page, again, kPageBytes) != 0) {
    abort();
  }
  return true;
}

bool InPage(const char* page, std::string_view s) {
  return s.empty() || (s.data() >= page && s.data() + s.size() <= page + kPageBytes);
}

bool Overflows(const Cell& c) { return c.key_run != 0; }

// The cell's fields, as page.h defines them.
void CheckCell(const char* page, bool leaf, const Cell& c) {
  if (!InPage(page, c.key) || !InPage(page, c.value)) abort();
  if (Overflows(c) != !KeyInline(c.key_bytes)) abort();
  if (Overflows(c) ? (c.key.size() != kKeyPrefixBytes || c.key_run < kFirstDataPage)
                   : c.key.size() != c.key_bytes) {
    abort();
  }
  if (!leaf) {
    if (c.child < kFirstDataPage || !c.value.empty() || c.value_bytes != 0 || c.value_run != 0) {
      abort();
    }
    return;
  }
  if (c.child != 0) abort();
  const size_t key_part = Overflows(c) ? kKeyPrefixBytes + 8 : c.key.size();
  if ((c.value_run != 0) == InlineValueFits(key_part, c.value_bytes)) abort();
  if (c.value_run != 0 ? (c.value_run < kFirstDataPage || !c.value.empty())
                       : c.value.size() != c.value_bytes) {
    abort();
  }
}

bool SameCell(const Cell& a, const Cell& b) {
  return a.key == b.key && a.key_bytes == b.key_bytes && a.key_run == b.key_run &&
         a.value == b.value && a.value_bytes == b.value_bytes && a.value_run == b.value_run &&
         a.child == b.child;
}

// NodeBuilder::Add requires ascending keys. Only an overflow key's prefix is
// in the page, so two keys are compared on what the cells hold of them.
bool Ascending(const std::vector<Cell>& cells, bool leaf) {
  for (size_t i = leaf ? 1 : 2; i < cells.size(); i++) {
    const Cell& a = cells[i - 1];
    const Cell& b = cells[i];
    if (Overflows(a) || Overflows(b)) {
      if (a.key.substr(0, kKeyPrefixBytes) > b.key.substr(0, kKeyPrefixBytes)) return false;
    } else if (a.key >= b.key) {
      return false;
    }
  }
  return true;
}

// Rebuilds the node from its cells; they must decode to the same values.
void Rebuild(const std::vector<Cell>& cells, PageType type, PageId id, uint64_t txn) {
  NodeBuilder builder(type);
  for (const Cell& c : cells) {
    if (!builder.Fits(c)) return;  // overlapping cells: more than a page holds
    builder.Add(c);
  }
  char rebuilt[kPageBytes];
  builder.Finish(id, txn, rebuilt);
  SealPage(rebuilt);
  if (!CheckPage(rebuilt, id, type, txn).ok()) abort();
  NodeView view;
  if (!view.Init(rebuilt, id).ok() || view.count() != static_cast<int>(cells.size())) {
    abort();
  }
  for (int i = 0; i < view.count(); i++) {
    Cell c;
    if (!view.CellAt(i, &c).ok() || !SameCell(c, cells[i])) abort();
  }
}

void FuzzNode(const char* page, PageId id) {
  NodeView view;
  if (Failed(view.Init(page, id))) return;
  const PageHeader h = DecodeHeader(page);
  if (view.count() != h.count || view.leaf() != (h.type == PageType::kLeaf)) abort();
  if (h.type != PageType::kLeaf && h.type != PageType::kBranch) abort();
  if (view.count() < 1 || kPageHeaderBytes + 2 * size_t(view.count()) > kPageBytes) abort();
  std::vector<Cell> cells;
  for (int i = 0; i < view.count(); i++) {
    Cell c;
    // KeyAt (the binary search's decoder) agrees with CellAt: the same key
    // when the cell is good; on a damaged cell it may fail or give a key
    // inside the page, never more.
    Cell k;
    const bool key_ok = !Failed(view.KeyAt(i, &k));
    if (key_ok && (k.key.data() < page || k.key.data() + k.key.size() > page + kPageBytes)) abort();
    if (Failed(view.CellAt(i, &c))) continue;
    if (!key_ok || k.key != c.key || k.key_bytes != c.key_bytes || k.key_run != c.key_run) abort();
    if (const PageId child = view.InlineChild(i); child != 0 && child != c.child) abort();
    CheckCell(page, view.leaf(), c);
    cells.push_back(c);
  }
  if (cells.size() == size_t(view.count()) && Ascending(cells, view.leaf())) {
    Rebuild(cells, h.type, id, h.txn);
  }
}

void FuzzFreeList(const char* page, PageId id) {
  PageId next = 0;
  std::vector<FreeRun> runs;
  if (Failed(DecodeFreeListPage(page, id, &next, &runs))) return;
  const PageHeader h = DecodeHeader(page);
  if (runs.size() != h.count || runs.size() > kFreeRunsPerPage) abort();
  for (const FreeRun& r : runs) {
    if (r.pages == 0 || r.first < kFirstDataPage || r.first + r.pages < r.first) abort();
  }
  char again[kPageBytes];
  EncodeFreeListPage(id, h.txn, next, runs.data(), runs.size(), again);
  if (!CheckPage(again, id, PageType::kFreeList, h.txn).ok()) abort();
  PageId next2 = 0;
  std::vector<FreeRun> runs2;
  if (!DecodeFreeListPage(again, id, &next2, &runs2).ok()) abort();
  if (next2 != next || runs2 != runs) abort();
  if (h.type == PageType::kFreeList && h.page_id == id &&
      Canonical(page, kFreeListRunsOffset + 16 * runs.size()) &&
      std::memcmp(page, again, kPageBytes) != 0) {
    abort();
  }
}

void FuzzOverflow(const char* page, PageId id) {
  const PageHeader h = DecodeHeader(page);
  if (!CheckPage(page, id, PageType::kOverflow, h.txn).ok() || h.count != 0 || page[5] != 0) {
    return;
  }
  char again[kPageBytes];
  const std::string_view payload(page + kPageHeaderBytes, kOverflowPayloadBytes);
  EncodeOverflowPage(id, h.txn, payload, 0, again);
  if (std::memcmp(page, again, kPageBytes) != 0) abort();
}

void FuzzPage(const uint8_t* data, size_t size) {
  const uint8_t mode = size > 0 ? data[0] : 0;
  const uint8_t id_byte = size > 1 ? data[1] : 0;
  char page[kPageBytes] = {};
  if (size > kControlBytes) {
    std::memcpy(page, data + kControlBytes, std::min(size - kControlBytes, kPageBytes));
  }
  if (mode & kModeSeal) SealPage(page);
  const PageId id = (mode & kModeForeignId) ? id_byte : DecodeHeader(page).page_id;

  FuzzCheckPage(page, id);
  const bool meta0 = FuzzMeta(page, 0);
  const bool meta1 = FuzzMeta(page, 1);
  if (meta0 && meta1) abort();  // txn parity names one meta page
  FuzzNode(page, id);
  FuzzFreeList(page, id);
  FuzzOverflow(page, id);
}

}  // namespace
}  // namespace lightning::btree

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lightning::btree::FuzzPage(data, size);
  return 0;
}
