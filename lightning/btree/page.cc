#include "lightning/btree/page.h"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "lightning/util/coding.h"
#include "lightning/util/crc32c.h"

namespace lightning::btree {
namespace {

std::string PageName(PageId id) { return "page " + std::to_string(id); }

Status Bad(PageId id, const std::string& what) {
  return Status::Corruption(PageName(id) + ": " + what);
}

size_t KeyPartBytes(const Cell& c) { return c.key_run != 0 ? kKeyPrefixBytes + 8 : c.key.size(); }

}  // namespace

const char* PageTypeName(PageType type) {
  switch (type) {
    case PageType::kMeta:
      return "meta";
    case PageType::kBranch:
      return "branch";
    case PageType::kLeaf:
      return "leaf";
    case PageType::kOverflow:
      return "overflow";
    case PageType::kFreeList:
      return "free-list";
  }
  return "unknown";
}

// --- Header ------------------------------------------------------------------

void EncodeHeader(const PageHeader& h, char* page) {
  EncodeFixed32(page, 0);
  page[4] = static_cast<char>(h.type);
  page[5] = 0;
  EncodeFixed16(page + 6, h.count);
  EncodeFixed64(page + 8, h.page_id);
  EncodeFixed64(page + 16, h.txn);
}

void SealPage(char* page) {
  EncodeFixed32(page, crc32c::Mask(crc32c::Value(page + 4, kPageBytes - 4)));
}

bool ChecksumMatches(const char* page) {
  return crc32c::Unmask(DecodeFixed32(page)) == crc32c::Value(page + 4, kPageBytes - 4);
}

PageHeader DecodeHeader(const char* page) {
  PageHeader h;
  h.type = static_cast<PageType>(static_cast<uint8_t>(page[4]));
  h.count = DecodeFixed16(page + 6);
  h.page_id = DecodeFixed64(page + 8);
  h.txn = DecodeFixed64(page + 16);
  return h;
}

Status CheckPage(const char* page, PageId id, PageType type, uint64_t max_txn,
                 bool verify_checksum) {
  if (verify_checksum && !ChecksumMatches(page)) return Bad(id, "checksum mismatch");
  PageHeader h = DecodeHeader(page);
  if (h.page_id != id) {
    return Bad(id, "header names page " + std::to_string(h.page_id) + " (a misplaced page)");
  }
  if (h.type != type) {
    return Bad(id, std::string("is a ") + PageTypeName(h.type) + " page (type " +
                       std::to_string(static_cast<int>(h.type)) + "), expected " +
                       PageTypeName(type));
  }
  if (h.txn > max_txn) {
    return Bad(id, "written by transaction " + std::to_string(h.txn) +
                       ", after the meta that reaches it (" + std::to_string(max_txn) + ")");
  }
  return Status::OK();
}

// --- Nodes -------------------------------------------------------------------

Status NodeView::Init(const char* page, PageId id) {
  page_ = page;
  id_ = id;
  PageHeader h = DecodeHeader(page);
  if (h.type != PageType::kLeaf && h.type != PageType::kBranch) {
    return Bad(id, "not a tree node (type " + std::to_string(static_cast<int>(h.type)) + ")");
  }
  type_ = h.type;
  count_ = h.count;
  if (count_ == 0 || kPageHeaderBytes + 2 * size_t{h.count} > kPageBytes) {
    return Bad(id, "bad cell count " + std::to_string(h.count));
  }
  return Status::OK();
}

Status NodeView::CellAt(int i, Cell* c, size_t* end) const {
  assert(i >= 0 && i < count_);
  const size_t cells_start = kPageHeaderBytes + 2 * size_t(count_);
  const size_t offset = DecodeFixed16(page_ + kPageHeaderBytes + 2 * size_t(i));
  if (offset < cells_start || offset >= kPageBytes) {
    return Bad(id_, "cell " + std::to_string(i) + " offset " + std::to_string(offset) +
                        " outside the cell area");
  }
  const char* p = page_ + offset;
  const char* limit = page_ + kPageBytes;
  const uint8_t flags = static_cast<uint8_t>(*p++);
  const uint8_t allowed = leaf() ? (kKeyOverflow | kValueOverflow) : kKeyOverflow;
  *c = Cell();
  if ((flags & ~allowed) != 0) return Bad(id_, "cell " + std::to_string(i) + " has bad flags");
  p = DecodeVarint32(p, limit, &c->key_bytes);
  if (p != nullptr && leaf()) p = DecodeVarint32(p, limit, &c->value_bytes);
  if (p == nullptr) return Bad(id_, "cell " + std::to_string(i) + " has a truncated length");
  const bool key_overflow = (flags & kKeyOverflow) != 0;
  size_t key_part = key_overflow ? kKeyPrefixBytes : c->key_bytes;
  if (key_overflow != !KeyInline(c->key_bytes) || size_t(limit - p) < key_part) {
    return Bad(id_, "cell " + std::to_string(i) + " has a bad key length");
  }
  c->key = std::string_view(p, key_part);
  p += key_part;
  if (key_overflow) {
    if (limit - p < 8) return Bad(id_, "cell " + std::to_string(i) + " is truncated");
    c->key_run = DecodeFixed64(p);
    p += 8;
    if (c->key_run < kFirstDataPage) return Bad(id_, "cell " + std::to_string(i) + " bad run");
  }
  if (!leaf()) {
    if (limit - p < 8) return Bad(id_, "cell " + std::to_string(i) + " is truncated");
    c->child = DecodeFixed64(p);
    if (c->child < kFirstDataPage) return Bad(id_, "cell " + std::to_string(i) + " bad child");
    if (end != nullptr) *end = static_cast<size_t>(p + 8 - page_);
    return Status::OK();
  }
  const bool value_overflow = (flags & kValueOverflow) != 0;
  if (value_overflow == InlineValueFits(KeyPartBytes(*c), c->value_bytes)) {
    return Bad(id_, "cell " + std::to_string(i) + " stores its value the wrong way");
  }
  if (value_overflow) {
    if (limit - p < 8) return Bad(id_, "cell " + std::to_string(i) + " is truncated");
    c->value_run = DecodeFixed64(p);
    if (c->value_run < kFirstDataPage) return Bad(id_, "cell " + std::to_string(i) + " bad run");
    p += 8;
  } else {
    if (size_t(limit - p) < c->value_bytes) {
      return Bad(id_, "cell " + std::to_string(i) + " value runs past the page");
    }
    c->value = std::string_view(p, c->value_bytes);
    p += c->value_bytes;
  }
  if (end != nullptr) *end = static_cast<size_t>(p - page_);
  return Status::OK();
}

Status NodeView::KeyAtSlow(int i, Cell* c) const {
  assert(i >= 0 && i < count_);
  const size_t offset = SlotOffset(i);
  if (offset < kPageHeaderBytes + 2 * size_t(count_) || offset >= kPageBytes) return CellAt(i, c);
  const char* p = page_ + offset;
  const char* limit = page_ + kPageBytes;
  const bool key_overflow = (static_cast<uint8_t>(*p++) & kKeyOverflow) != 0;
  uint32_t value_bytes = 0;
  p = DecodeVarint32(p, limit, &c->key_bytes);
  if (p != nullptr && leaf()) p = DecodeVarint32(p, limit, &value_bytes);
  if (p == nullptr || key_overflow == KeyInline(c->key_bytes)) return CellAt(i, c);
  const size_t key_part = key_overflow ? kKeyPrefixBytes : c->key_bytes;
  if (size_t(limit - p) < key_part + (key_overflow ? 8 : 0)) return CellAt(i, c);
  c->key = std::string_view(p, key_part);
  c->key_run = key_overflow ? DecodeFixed64(p + key_part) : 0;
  if (key_overflow && c->key_run < kFirstDataPage) return CellAt(i, c);
  return Status::OK();
}

size_t NodeCellBytes(PageType type, const Cell& c) {
  size_t n = 2 + 1 + VarintLength(c.key_bytes) + KeyPartBytes(c);
  if (type == PageType::kBranch) return n + 8;
  n += VarintLength(c.value_bytes);
  return n + (c.value_run != 0 ? 8 : c.value.size());
}

void EncodeCell(PageType type, const Cell& c, std::string* dst) {
  assert((c.key_run != 0) == !KeyInline(c.key_bytes));
  assert(c.key_run != 0 || c.key.size() == c.key_bytes);
  uint8_t flags = c.key_run != 0 ? kKeyOverflow : 0;
  if (type == PageType::kLeaf && c.value_run != 0) flags |= kValueOverflow;
  dst->push_back(static_cast<char>(flags));
  PutVarint32(dst, c.key_bytes);
  if (type == PageType::kLeaf) PutVarint32(dst, c.value_bytes);
  if (c.key_run != 0) {
    dst->append(c.key.substr(0, kKeyPrefixBytes));
    PutFixed64(dst, c.key_run);
  } else {
    dst->append(c.key);
  }
  if (type == PageType::kBranch) {
    PutFixed64(dst, c.child);
  } else if (c.value_run != 0) {
    PutFixed64(dst, c.value_run);
  } else {
    assert(c.value.size() == c.value_bytes);
    dst->append(c.value);
  }
}

void NodeBuilder::Add(const Cell& c) {
  assert(Fits(c));
  offsets_.push_back(static_cast<uint16_t>(cells_.size()));
  EncodeCell(type_, c, &cells_);
}

void NodeBuilder::Finish(PageId id, uint64_t txn, char* page) const {
  assert(!offsets_.empty() && bytes() <= kNodeCapacityBytes);
  std::memset(page, 0, kPageBytes);
  EncodeHeader({type_, static_cast<uint16_t>(offsets_.size()), id, txn}, page);
  const size_t cells_start = kPageHeaderBytes + 2 * offsets_.size();
  for (size_t i = 0; i < offsets_.size(); i++) {
    EncodeFixed16(page + kPageHeaderBytes + 2 * i,
                  static_cast<uint16_t>(cells_start + offsets_[i]));
  }
  std::memcpy(page + cells_start, cells_.data(), cells_.size());
}

// --- Overflow, free list, meta -----------------------------------------------

void EncodeOverflowPage(PageId id, uint64_t txn, std::string_view data, uint64_t index,
                        char* page) {
  std::memset(page, 0, kPageBytes);
  EncodeHeader({PageType::kOverflow, 0, id, txn}, page);
  const size_t begin = index * kOverflowPayloadBytes;
  assert(begin < data.size());
  const size_t n = std::min(kOverflowPayloadBytes, data.size() - begin);
  std::memcpy(page + kPageHeaderBytes, data.data() + begin, n);
  SealPage(page);
}

void EncodeFreeListPage(PageId id, uint64_t txn, PageId next, const FreeRun* runs, size_t n,
                        char* page) {
  assert(n <= kFreeRunsPerPage);
  std::memset(page, 0, kPageBytes);
  EncodeHeader({PageType::kFreeList, static_cast<uint16_t>(n), id, txn}, page);
  char* p = page + kPageHeaderBytes;
  EncodeFixed64(p, next);
  p += 8;
  for (size_t i = 0; i < n; i++, p += 16) {
    EncodeFixed64(p, runs[i].first);
    EncodeFixed64(p + 8, runs[i].pages);
  }
  SealPage(page);
}

Status DecodeFreeListPage(const char* page, PageId id, PageId* next, std::vector<FreeRun>* runs) {
  PageHeader h = DecodeHeader(page);
  if (h.count > kFreeRunsPerPage) return Bad(id, "free-list count " + std::to_string(h.count));
  const char* p = page + kPageHeaderBytes;
  *next = DecodeFixed64(p);
  p += 8;
  for (size_t i = 0; i < h.count; i++, p += 16) {
    FreeRun r{DecodeFixed64(p), DecodeFixed64(p + 8)};
    if (r.pages == 0 || r.first < kFirstDataPage || r.first + r.pages < r.first) {
      return Bad(id, "free-list run " + std::to_string(i) + " is malformed");
    }
    runs->push_back(r);
  }
  return Status::OK();
}

void EncodeMetaPage(const Meta& m, char* page) {
  std::memset(page, 0, kPageBytes);
  EncodeHeader({PageType::kMeta, 0, m.txn % 2, m.txn}, page);
  char* p = page + kPageHeaderBytes;
  EncodeFixed64(p, kMetaMagic);
  EncodeFixed32(p + 8, kFormatVersion);
  EncodeFixed32(p + 12, static_cast<uint32_t>(kPageBytes));
  EncodeFixed64(p + 16, m.root);
  EncodeFixed32(p + 24, m.height);
  EncodeFixed64(p + 28, m.free_list);
  EncodeFixed64(p + 36, m.page_count);
  EncodeFixed64(p + 44, m.log_number);
  EncodeFixed64(p + 52, m.last_sequence);
  EncodeFixed64(p + 60, m.entries);
  SealPage(page);
}

Status DecodeMetaPage(const char* page, PageId id, Meta* m) {
  if (!ChecksumMatches(page)) return Bad(id, "meta checksum mismatch");
  PageHeader h = DecodeHeader(page);
  if (h.type != PageType::kMeta || h.page_id != id || h.txn % 2 != id) {
    return Bad(id, "not a meta page");
  }
  const char* p = page + kPageHeaderBytes;
  if (DecodeFixed64(p) != kMetaMagic) return Bad(id, "bad magic: not a Lightning page file");
  const uint32_t version = DecodeFixed32(p + 8);
  if (version != kFormatVersion) {
    return Bad(id, "page-file format version " + std::to_string(version) + ", this build reads " +
                       std::to_string(kFormatVersion));
  }
  if (DecodeFixed32(p + 12) != kPageBytes) return Bad(id, "page size is not 4096");
  Meta r;
  r.txn = h.txn;
  r.root = DecodeFixed64(p + 16);
  r.height = DecodeFixed32(p + 24);
  r.free_list = DecodeFixed64(p + 28);
  r.page_count = DecodeFixed64(p + 36);
  r.log_number = DecodeFixed64(p + 44);
  r.last_sequence = DecodeFixed64(p + 52);
  r.entries = DecodeFixed64(p + 60);
  const bool bad_root = r.root == 0 ? r.height != 0
                                    : (r.height == 0 || r.height > 64 || r.root < kFirstDataPage ||
                                       r.root >= r.page_count);
  const bool bad_free =
      r.free_list != 0 && (r.free_list < kFirstDataPage || r.free_list >= r.page_count);
  if (r.page_count < kFirstDataPage || r.page_count > (uint64_t{1} << 40) || bad_root || bad_free) {
    return Bad(id, "meta fields are inconsistent");
  }
  *m = r;
  return Status::OK();
}

}  // namespace lightning::btree
