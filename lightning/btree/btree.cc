#include "lightning/btree/btree.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <functional>

#include "lightning/util/coding.h"

namespace lightning::btree {
namespace {

// The key or value of `bytes` stored in the overflow run starting at `run`.
Status ReadRun(const Pager& pager, PageId run, uint64_t bytes, uint64_t max_txn,
               PageReadOptions read, std::string* out) {
  out->clear();
  out->reserve(bytes);
  for (uint64_t i = 0; i < OverflowPages(bytes); i++) {
    PageRef ref;
    Status s = pager.Read(run + i, PageType::kOverflow, max_txn, read, &ref);
    if (!s.ok()) return s;
    const size_t n = std::min<uint64_t>(kOverflowPayloadBytes, bytes - out->size());
    out->append(ref.data() + kPageHeaderBytes, n);
  }
  return Status::OK();
}

// The cell's whole key: its inline bytes, or its run read into *storage.
Status CellKey(const Pager& pager, const Cell& c, uint64_t max_txn, PageReadOptions read,
               std::string* storage, std::string_view* key) {
  if (c.key_run == 0) {
    *key = c.key;
    return Status::OK();
  }
  Status s = ReadRun(pager, c.key_run, c.key_bytes, max_txn, read, storage);
  if (s.ok() && std::string_view(*storage).substr(0, kKeyPrefixBytes) != c.key) {
    s = Status::Corruption(pager.path() + ": overflow key at page " + std::to_string(c.key_run) +
                           " does not match its prefix");
  }
  *key = *storage;
  return s;
}

// The order of keys: bytewise (memcmp, then length). Every search goes
// through it, so it compares eight bytes at a time itself (big-endian words
// order as their bytes do) rather than calling memcmp for short keys.
inline uint64_t LoadBigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline int CompareKeys(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t x = LoadBigEndian64(a.data() + i), y = LoadBigEndian64(b.data() + i);
    if (x != y) return x < y ? -1 : 1;
  }
  for (; i < n; i++) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// The separator a leaf split gives the parent: the shortest prefix of `right`
// (the right page's first key) that sorts above `left` (the left page's last
// key). Every key of the left page is below it; `right` is not.
std::string_view LeafSeparator(std::string_view left, std::string_view right) {
  size_t common = 0;
  while (common < std::min(left.size(), right.size()) && left[common] == right[common]) common++;
  return right.substr(0, common + 1);
}

// *cmp is <0, 0 or >0 as `target` sorts before, equal to or after the cell's key.
Status Compare(const Pager& pager, const Cell& c, std::string_view target, uint64_t max_txn,
               PageReadOptions read, int* cmp) {
  if (c.key_run == 0) {
    *cmp = CompareKeys(target, c.key);
    return Status::OK();
  }
  *cmp = CompareKeys(target.substr(0, kKeyPrefixBytes), c.key);
  if (*cmp != 0) return Status::OK();
  if (target.size() <= kKeyPrefixBytes) {  // a prefix of the longer key
    *cmp = -1;
    return Status::OK();
  }
  std::string storage;
  std::string_view key;
  Status s = CellKey(pager, c, max_txn, read, &storage, &key);
  if (s.ok()) *cmp = CompareKeys(target, key);
  return s;
}

// The first cell i in [lo, count) whose key is >= target, or with `strict`
// > target (count if none), by binary search; *equal if that key is target.
Status Search(const Pager& pager, const NodeView& node, int lo, std::string_view target,
              bool strict, uint64_t max_txn, PageReadOptions read, int* index, bool* equal) {
  int hi = node.count();
  *equal = false;
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    int cmp = 0;
    if (std::string_view key; node.InlineKey(mid, &key)) {
      cmp = CompareKeys(target, key);
    } else {
      Cell c;
      Status s = node.KeyAt(mid, &c);
      if (s.ok()) s = Compare(pager, c, target, max_txn, read, &cmp);
      if (!s.ok()) return s;
    }
    if (cmp > 0 || (strict && cmp == 0)) {
      lo = mid + 1;
    } else {
      hi = mid;
      *equal = cmp == 0;
    }
  }
  *index = lo;
  return Status::OK();
}

// The child of a branch whose range holds `target`: the last cell i >= 1 with
// key(i) <= target, else 0.
Status ChildIndex(const Pager& pager, const NodeView& node, std::string_view target,
                  uint64_t max_txn, PageReadOptions read, int* index) {
  bool equal;
  Status s = Search(pager, node, 1, target, /*strict=*/true, max_txn, read, index, &equal);
  (*index)--;
  return s;
}

// The first cell of a leaf whose key is >= target (count() if none); *equal
// if its key is target.
Status LowerBound(const Pager& pager, const NodeView& node, std::string_view target,
                  uint64_t max_txn, PageReadOptions read, int* index, bool* equal) {
  return Search(pager, node, 0, target, /*strict=*/false, max_txn, read, index, equal);
}

// A binary search in a leaf touches a handful of its cache lines, one after
// another. A leaf of a large tree is rarely in the cache: asking for all of
// its lines at once lets the memory fetch them in parallel, not in turn (W2:
// about a tenth more Gets per second).
inline void PrefetchPage(const char* page) {
  for (size_t line = 64; line < kPageBytes; line += 64) __builtin_prefetch(page + line);
}

Status ReadNodePage(const Pager& pager, PageId id, uint32_t level, uint64_t max_txn,
                    PageReadOptions read, PageRef* ref, NodeView* node) {
  Status s = pager.Read(id, level == 1 ? PageType::kLeaf : PageType::kBranch, max_txn, read, ref);
  if (s.ok()) s = node->Init(ref->data(), id);
  if (!s.ok() && s.IsCorruption() && s.message().find(pager.path()) == std::string::npos) {
    s = Status::Corruption(pager.path() + ": " + s.message());
  }
  return s;
}

}  // namespace

// --- Lookups -------------------------------------------------------------------

Status TreeGet(const Pager& pager, const TreeRoot& tree, std::string_view key, PageReadOptions read,
               std::string* value) {
  PageId id = tree.root;
  if (id == 0) return Status::NotFound(std::string_view());
  for (uint32_t level = tree.height;; level--) {
    PageRef ref;
    NodeView node;
    Status s = ReadNodePage(pager, id, level, tree.txn, read, &ref, &node);
    if (!s.ok()) return s;
    Cell c;
    if (level > 1) {
      int i = 0;
      s = ChildIndex(pager, node, key, tree.txn, read, &i);
      if (!s.ok()) return s;
      if ((id = node.InlineChild(i)) != 0) continue;
      s = node.CellAt(i, &c);
      if (!s.ok()) return s;
      id = c.child;
      continue;
    }
    PrefetchPage(ref.data());
    int i = 0;
    bool equal = false;
    s = LowerBound(pager, node, key, tree.txn, read, &i, &equal);
    if (!s.ok()) return s;
    if (!equal) return Status::NotFound(std::string_view());
    s = node.CellAt(i, &c);
    if (!s.ok()) return s;
    if (c.value_run != 0) return ReadRun(pager, c.value_run, c.value_bytes, tree.txn, read, value);
    value->assign(c.value);
    return Status::OK();
  }
}

namespace {

// A cursor: the path from the root to the current leaf cell.
class TreeIterator final : public Iterator {
 public:
  TreeIterator(const Pager* pager, const TreeRoot& tree, PageReadOptions read,
               std::function<void()> on_destroy)
      : pager_(*pager), tree_(tree), read_(read), on_destroy_(std::move(on_destroy)) {}
  ~TreeIterator() override {
    if (on_destroy_) on_destroy_();
  }

  bool Valid() const override { return valid_; }
  void SeekToFirst() override { SeekEnd(true); }
  void SeekToLast() override { SeekEnd(false); }
  void Seek(std::string_view target) override {
    if (!Reset()) return;
    PageId id = tree_.root;
    for (uint32_t depth = 0; depth < tree_.height; depth++) {
      if (!Load(depth, id)) return;
      Level& l = path_[depth];
      Status s;
      if (depth + 1 < tree_.height) {
        s = ChildIndex(pager_, l.node, target, tree_.txn, read_, &l.index);
        Cell c;
        if (s.ok()) s = l.node.CellAt(l.index, &c);
        id = c.child;
      } else {
        bool equal = false;
        s = LowerBound(pager_, l.node, target, tree_.txn, read_, &l.index, &equal);
      }
      if (!s.ok()) return Fail(s);
    }
    if (path_.back().index == path_.back().node.count()) {
      path_.back().index--;
      return Step(true);
    }
    Settle();
  }
  void Next() override {
    assert(valid_);
    Step(true);
  }
  void Prev() override {
    assert(valid_);
    Step(false);
  }
  std::string_view key() const override { return key_; }
  std::string_view value() const override { return value_; }
  Status status() const override { return status_; }

 private:
  struct Level {
    PageRef ref;
    NodeView node;
    int index = 0;
  };

  bool Reset() {
    valid_ = false;
    if (!status_.ok()) return false;
    path_.assign(tree_.height, Level());
    return tree_.root != 0;
  }
  void Fail(const Status& s) {
    valid_ = false;
    status_ = s;
  }
  bool Load(uint32_t depth, PageId id) {
    Level& l = path_[depth];
    Status s = ReadNodePage(pager_, id, tree_.height - depth, tree_.txn, read_, &l.ref, &l.node);
    if (!s.ok()) Fail(s);
    return s.ok();
  }
  // From the cell path_[depth] points at, down to the first (or last) leaf cell.
  bool Descend(uint32_t depth, bool first) {
    for (; depth + 1 < tree_.height; depth++) {
      Cell c;
      Status s = path_[depth].node.CellAt(path_[depth].index, &c);
      if (!s.ok()) {
        Fail(s);
        return false;
      }
      if (!Load(depth + 1, c.child)) return false;
      path_[depth + 1].index = first ? 0 : path_[depth + 1].node.count() - 1;
    }
    return true;
  }
  void SeekEnd(bool first) {
    if (!Reset() || !Load(0, tree_.root)) return;
    path_[0].index = first ? 0 : path_[0].node.count() - 1;
    if (Descend(0, first)) Settle();
  }
  // The next (or previous) leaf cell, climbing as far as needed.
  void Step(bool forward) {
    int depth = static_cast<int>(tree_.height) - 1;
    for (; depth >= 0; depth--) {
      Level& l = path_[depth];
      if (forward ? l.index + 1 < l.node.count() : l.index > 0) {
        l.index += forward ? 1 : -1;
        break;
      }
    }
    if (depth < 0) {
      valid_ = false;
      return;
    }
    if (Descend(depth, forward)) Settle();
  }
  void Settle() {
    const Level& l = path_.back();
    Cell c;
    Status s = l.node.CellAt(l.index, &c);
    if (s.ok()) s = CellKey(pager_, c, tree_.txn, read_, &key_storage_, &key_);
    if (s.ok() && c.value_run != 0) {
      s = ReadRun(pager_, c.value_run, c.value_bytes, tree_.txn, read_, &value_storage_);
      value_ = value_storage_;
    } else {
      value_ = c.value;
    }
    if (!s.ok()) return Fail(s);
    valid_ = true;
  }

  const Pager& pager_;
  const TreeRoot tree_;
  const PageReadOptions read_;
  std::function<void()> on_destroy_;
  std::vector<Level> path_;  // path_[0] is the root, path_.back() the leaf
  bool valid_ = false;
  Status status_;
  std::string_view key_, value_;
  std::string key_storage_, value_storage_;
};

}  // namespace

std::unique_ptr<Iterator> NewTreeIterator(const Pager* pager, const TreeRoot& tree,
                                          PageReadOptions read, std::function<void()> on_destroy) {
  return std::make_unique<TreeIterator>(pager, tree, read, std::move(on_destroy));
}

// --- Updates -------------------------------------------------------------------

// A cell of a node being rebuilt. Its views point into pages the writer holds,
// into the ops, or into the writer's storage.
struct TreeWriter::Entry {
  std::string_view key;  // the whole key; "" for a branch's first child
  PageId key_run = 0;
  std::string_view value;
  uint32_t value_bytes = 0;
  PageId value_run = 0;
  PageId child = 0;
  size_t fill = kNodeCapacityBytes;  // bytes used in `child`, if this transaction built it

  Cell ToCell() const {
    Cell c;
    c.key = key_run != 0 ? key.substr(0, kKeyPrefixBytes) : key;
    c.key_bytes = static_cast<uint32_t>(key.size());
    c.key_run = key_run;
    c.value = value;
    c.value_bytes = value_bytes;
    c.value_run = value_run;
    c.child = child;
    return c;
  }
};

struct TreeWriter::Node {
  PageId id = 0;  // 0: the empty tree's missing root leaf
  bool leaf = true;
  std::vector<Entry> entries;
};

std::string_view TreeWriter::Keep(std::string s) { return storage_.emplace_back(std::move(s)); }

Status TreeWriter::ReadNode(PageId id, uint32_t level, Node* node) {
  node->id = id;
  node->leaf = level == 1;
  node->entries.clear();
  if (id == 0) return Status::OK();
  PageRef& ref = held_.emplace_back();
  NodeView view;
  Status s = ReadNodePage(*pager_, id, level, txn_, {}, &ref, &view);
  if (!s.ok()) return s;
  node->entries.resize(view.count());
  for (int i = 0; i < view.count(); i++) {
    Cell c;
    s = view.CellAt(i, &c);
    if (!s.ok()) return s;
    Entry& e = node->entries[i];
    if (c.key_run != 0) {
      std::string key;
      std::string_view full;
      s = CellKey(*pager_, c, txn_, {}, &key, &full);
      if (!s.ok()) return s;
      e.key = Keep(std::move(key));
    } else {
      e.key = c.key;
    }
    e.key_run = c.key_run;
    e.value = c.value;
    e.value_bytes = c.value_bytes;
    e.value_run = c.value_run;
    e.child = c.child;
  }
  return Status::OK();
}

bool TreeWriter::Own(const char* page) const { return DecodeHeader(page).txn > shared_up_to_; }

void TreeWriter::Install(PageId old_id, PageId new_id, PageBuffer buffer) {
  if (new_id == old_id) {  // Own: no reader can see the page; keep the old content for an undo
    undo_.emplace_back(old_id, pager_->Replace(old_id, std::move(buffer)));
    return;
  }
  pager_->Put(new_id, std::move(buffer));  // sealed when written (Pager::WritePages)
  pager_->Retire(old_id, 1, txn_);
}

PageId TreeWriter::WriteRun(std::string_view data) {
  const uint64_t pages = OverflowPages(data.size());
  const PageId first = pager_->Allocate(pages);
  for (uint64_t i = 0; i < pages; i++) {
    PageBuffer buffer = NewPageBuffer();
    EncodeOverflowPage(first + i, txn_, data, i, buffer.get());
    pager_->Put(first + i, std::move(buffer));
  }
  return first;
}

void TreeWriter::RetireCellRuns(const Entry& e) {
  if (e.key_run != 0) pager_->Retire(e.key_run, OverflowPages(e.key.size()), txn_);
  if (e.value_run != 0) pager_->Retire(e.value_run, OverflowPages(e.value_bytes), txn_);
}

Status TreeWriter::NewEntryForOp(const TreeOp& op, Entry* e) {
  assert(op.key.size() <= UINT32_MAX && op.value_bytes() <= UINT32_MAX);
  if (e->key_run == 0 && !KeyInline(op.key.size())) e->key_run = WriteRun(op.key);
  e->key = op.key;
  e->value_bytes = static_cast<uint32_t>(op.value_bytes());
  e->value = {};
  e->value_run = 0;
  const size_t key_part = e->key_run != 0 ? kKeyPrefixBytes + 8 : op.key.size();
  if (op.value_run != 0) {
    assert(!InlineValueFits(key_part, op.run_bytes));
    e->value_run = op.value_run;  // written already
  } else if (InlineValueFits(key_part, op.value.size())) {
    e->value = op.value;
  } else {
    e->value_run = WriteRun(op.value);
  }
  return Status::OK();
}

Status TreeWriter::Apply(const std::vector<TreeOp>& ops, TreeRoot* result) {
  Status s = ApplyOps(ops, result);
  if (!s.ok()) {
    // The base version is whole again: the pages edited in place get their
    // old content back (the pages this call allocated are unreachable).
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      (void)pager_->Replace(it->first, std::move(it->second));
    }
  }
  undo_.clear();
  held_.clear();
  storage_.clear();
  return s;
}

Status TreeWriter::ApplyOps(const std::vector<TreeOp>& ops, TreeRoot* result) {
  *result = base_;
  result->txn = txn_;
  if (ops.empty()) return Status::OK();
  uint32_t height = std::max<uint32_t>(base_.height, 1);
  std::vector<Entry> out;
  Status s = ApplyNode(base_.root, height, ops.data(), ops.size(), &out);
  // Too many nodes at the top: grow a level until one root holds them.
  while (s.ok() && out.size() > 1) {
    std::vector<Entry> up;
    s = Pack(PageType::kBranch, out, false, &up);
    out = std::move(up);
    height++;
  }
  if (!s.ok()) return s;
  PageId root = out.empty() ? 0 : out[0].child;
  if (root == 0) height = 0;
  // A root branch with one child gives way to the child.
  while (height > 1) {
    PageRef ref;
    NodeView view;
    Cell only;
    s = ReadNodePage(*pager_, root, height, txn_, {}, &ref, &view);
    if (s.ok() && view.count() == 1) s = view.CellAt(0, &only);
    if (!s.ok()) return s;
    if (view.count() != 1) break;
    pager_->Retire(root, 1, txn_);
    root = only.child;
    height--;
  }
  result->root = root;
  result->height = height;
  result->entries = static_cast<uint64_t>(static_cast<int64_t>(base_.entries) + entries_delta_);
  return Status::OK();
}

// Most transactions change one leaf: the fast paths copy a page and edit the
// copy (EditLeaf, EditBranch); the general path decodes every cell, merges
// the ops in and packs the result into as many pages as it needs. A page
// that is the writer's own keeps its id: the copy replaces it (Own), so its
// parent does not change.
Status TreeWriter::ApplyNode(PageId id, uint32_t level, const TreeOp* ops, size_t n,
                             std::vector<Entry>* out) {
  Precomputed pre;
  if (id != 0) {
    bool done = false;
    Status s = level == 1 ? EditLeaf(id, ops, n, out, &done)
                          : EditBranch(id, level, ops, n, out, &done, &pre);
    if (s.ok() && !done && level == 1) s = RewriteLeaf(id, ops, n, out, &done);
    if (!s.ok() || done) return s;
  }
  Node node;
  Status s = ReadNode(id, level, &node);
  if (!s.ok()) return s;
  if (id != 0) pager_->Retire(id, 1, txn_);
  return node.leaf ? ApplyLeaf(node, ops, n, out) : ApplyBranch(node, level, ops, n, out, &pre);
}

// One op on a leaf whose result fits in one page and is not so small that it
// should merge: the copy gets the new cell (or loses the old one) and its
// slots shift; no other cell is decoded.
Status TreeWriter::EditLeaf(PageId id, const TreeOp* ops, size_t n, std::vector<Entry>* out,
                            bool* done) {
  *done = false;
  if (n != 1) return Status::OK();
  const TreeOp& op = ops[0];
  PageRef& ref = held_.emplace_back();
  NodeView view;
  Status s = ReadNodePage(*pager_, id, 1, txn_, {}, &ref, &view);
  if (!s.ok()) return s;
  const char* page = ref.data();
  PrefetchPage(page);  // the search, and the copy below, read most of it
  const int count = view.count();
  // The cells must lie in slot order (as NodeBuilder and this function lay them out).
  for (int j = 1; j < count; j++) {
    if (view.SlotOffset(j) <= view.SlotOffset(j - 1)) return Status::OK();
  }
  int idx = 0;
  bool equal = false;
  s = LowerBound(*pager_, view, op.key, txn_, {}, &idx, &equal);
  Cell last, old;
  size_t old_end = 0, cells_end = 0;
  if (s.ok()) s = view.CellAt(count - 1, &last, &cells_end);
  if (s.ok() && equal) s = view.CellAt(idx, &old, &old_end);
  if (!s.ok()) return s;
  if (!op.put && (!equal || count == 1)) return Status::OK();  // nothing to do, or empty

  std::string& cell = fresh_cells_;  // scratch: no allocation per edit
  cell.clear();
  Entry e;
  if (op.put) {
    e.key_run = equal ? old.key_run : 0;
    if (!equal && !KeyInline(op.key.size())) return Status::OK();  // the general path writes it
    // NewEntryForOp may write an overflow run: only once the edit is sure to fit.
    const size_t key_part = e.key_run != 0 ? kKeyPrefixBytes + 8 : op.key.size();
    const bool inline_value = op.value_run == 0 && InlineValueFits(key_part, op.value.size());
    Cell probe;
    probe.key = e.key_run != 0 ? op.key.substr(0, kKeyPrefixBytes) : op.key;
    probe.key_bytes = static_cast<uint32_t>(op.key.size());
    probe.key_run = e.key_run;
    probe.value_bytes = static_cast<uint32_t>(op.value_bytes());
    probe.value = inline_value ? op.value : std::string_view();
    probe.value_run = inline_value ? 0 : kFirstDataPage;  // a placeholder of the right size
    const size_t old_cell = equal ? old_end - view.SlotOffset(idx) : 0;
    const size_t old_cells = cells_end - (kPageHeaderBytes + 2 * size_t(count));
    const size_t slots = 2 * size_t(count + (equal ? 0 : 1));
    const size_t new_cell = NodeCellBytes(PageType::kLeaf, probe) - 2;  // less its slot
    if (slots + old_cells - old_cell + new_cell > kNodeCapacityBytes) {
      return Status::OK();  // a split: the general path
    }
    s = NewEntryForOp(op, &e);
    if (!s.ok()) return s;
    EncodeCell(PageType::kLeaf, e.ToCell(), &cell);
  }
  const int new_count = count + (op.put ? (equal ? 0 : 1) : -1);
  const size_t old_start = kPageHeaderBytes + 2 * size_t(count);
  const size_t new_start = kPageHeaderBytes + 2 * size_t(new_count);
  const size_t split = idx < count ? view.SlotOffset(idx) : cells_end;  // left cells end here
  const size_t right = equal ? old_end : split;                         // right cells start here
  const size_t used = new_start + (split - old_start) + cell.size() + (cells_end - right);
  if (!op.put && used - kPageHeaderBytes < kNodeCapacityBytes / 4) return Status::OK();  // merge
  assert(used <= kPageBytes);

  if (equal) {  // the old cell's runs go (a kept key keeps its run)
    if (old.value_run != 0) pager_->Retire(old.value_run, OverflowPages(old.value_bytes), txn_);
    if (!op.put && old.key_run != 0)
      pager_->Retire(old.key_run, OverflowPages(old.key_bytes), txn_);
  }
  entries_delta_ += op.put ? (equal ? 0 : 1) : -1;
  PageBuffer buffer = NewPageBuffer();
  char* p = buffer.get();
  std::memset(p, 0, kPageBytes);
  const bool own = Own(page);
  const PageId new_id = own ? id : pager_->Allocate(1);
  EncodeHeader({PageType::kLeaf, static_cast<uint16_t>(new_count), new_id, txn_}, p);
  std::memcpy(p + new_start, page + old_start, split - old_start);
  std::memcpy(p + new_start + (split - old_start), cell.data(), cell.size());
  std::memcpy(p + new_start + (split - old_start) + cell.size(), page + right, cells_end - right);
  const ptrdiff_t left_shift = ptrdiff_t(new_start) - ptrdiff_t(old_start);
  const ptrdiff_t right_shift = left_shift + ptrdiff_t(cell.size()) - ptrdiff_t(right - split);
  int to = 0;
  for (int j = 0; j < count; j++) {
    if (j == idx && op.put) {
      EncodeFixed16(p + kPageHeaderBytes + 2 * size_t(to++),
                    static_cast<uint16_t>(new_start + (split - old_start)));
      if (equal) continue;  // the replaced cell's slot is this one
    } else if (j == idx && equal) {
      continue;  // deleted
    }
    const ptrdiff_t shift = j < idx ? left_shift : right_shift;
    EncodeFixed16(p + kPageHeaderBytes + 2 * size_t(to++),
                  static_cast<uint16_t>(ptrdiff_t(view.SlotOffset(j)) + shift));
  }
  if (idx == count && op.put) {
    EncodeFixed16(p + kPageHeaderBytes + 2 * size_t(to++),
                  static_cast<uint16_t>(new_start + (split - old_start)));
  }
  assert(to == new_count);
  Install(id, new_id, std::move(buffer));
  Entry page_entry;
  page_entry.child = new_id;
  page_entry.fill = used - kPageHeaderBytes;
  out->push_back(page_entry);
  *done = true;
  return Status::OK();
}

// Several ops on a leaf, or one that splits it: the leaf's cells are copied as
// they are (no decoding) around the ops' new cells and packed into pages as
// Pack would pack them. Only for leaves whose keys are all inline (a split
// needs the keys on both sides of it); else the general path.
Status TreeWriter::RewriteLeaf(PageId id, const TreeOp* ops, size_t n, std::vector<Entry>* out,
                               bool* done) {
  *done = false;
  for (size_t j = 0; j < n; j++) {
    if (ops[j].put && !KeyInline(ops[j].key.size())) return Status::OK();
  }
  PageRef& ref = held_.emplace_back();
  NodeView view;
  Status s = ReadNodePage(*pager_, id, 1, txn_, {}, &ref, &view);
  if (!s.ok()) return s;
  const char* page = ref.data();
  const int count = view.count();
  Cell last;
  size_t cells_end = 0;
  s = view.CellAt(count - 1, &last, &cells_end);
  if (!s.ok()) return s;
  // The cells must lie in slot order (cell i ends where cell i + 1 starts),
  // their keys inline.
  for (int j = 0; j < count; j++) {
    const size_t offset = view.SlotOffset(j);
    if (offset >= cells_end || (j == 0 && offset < kPageHeaderBytes + 2 * size_t(count)) ||
        (j > 0 && offset <= view.SlotOffset(j - 1)) ||
        (static_cast<uint8_t>(page[offset]) & kKeyOverflow) != 0) {
      return Status::OK();
    }
  }
  auto cell_end = [&](int i) { return i + 1 < count ? view.SlotOffset(i + 1) : cells_end; };
  const bool append = ops[0].key.compare(last.key) > 0;

  // Merge the ops into the old cells.
  pieces_.clear();
  fresh_cells_.clear();
  int next = 0;  // the first old cell not yet copied
  for (size_t j = 0; j < n; j++) {
    const TreeOp& op = ops[j];
    int idx = 0;
    bool equal = false;
    s = Search(*pager_, view, next, op.key, /*strict=*/false, txn_, {}, &idx, &equal);
    if (!s.ok()) return s;
    for (; next < idx; next++) {
      pieces_.push_back({page + view.SlotOffset(next), 0,
                         static_cast<uint32_t>(cell_end(next) - view.SlotOffset(next))});
    }
    if (equal) {  // replaced or deleted: its value run goes (its key is inline)
      Cell old;
      s = view.CellAt(idx, &old);
      if (!s.ok()) return s;
      if (old.value_run != 0) pager_->Retire(old.value_run, OverflowPages(old.value_bytes), txn_);
      next = idx + 1;
      if (!op.put) entries_delta_--;
    } else if (op.put) {
      entries_delta_++;
    }
    if (op.put) {
      Entry e;
      s = NewEntryForOp(op, &e);
      if (!s.ok()) return s;
      const size_t offset = fresh_cells_.size();
      EncodeCell(PageType::kLeaf, e.ToCell(), &fresh_cells_);
      pieces_.push_back({nullptr, static_cast<uint32_t>(offset),
                         static_cast<uint32_t>(fresh_cells_.size() - offset)});
    }
  }
  for (; next < count; next++) {
    pieces_.push_back({page + view.SlotOffset(next), 0,
                       static_cast<uint32_t>(cell_end(next) - view.SlotOffset(next))});
  }
  for (Piece& piece : pieces_) {
    if (piece.data == nullptr) piece.data = fresh_cells_.data() + piece.offset;
  }
  // The key of an inline-key leaf cell (bounds checked above: the cell lies
  // in its page or in fresh_cells_).
  auto key_of = [](const Piece& piece) {
    const char* limit = piece.data + piece.bytes;
    uint32_t key_bytes = 0, value_bytes = 0;
    const char* p = DecodeVarint32(piece.data + 1, limit, &key_bytes);
    if (p != nullptr) p = DecodeVarint32(p, limit, &value_bytes);
    if (p == nullptr || key_bytes > size_t(limit - p)) return std::string_view();
    return std::string_view(p, key_bytes);
  };

  // Pack them as Pack does: evenly, or full pages when the ops append.
  const bool own = Own(page);
  if (pieces_.empty()) {
    pager_->Retire(id, 1, txn_);
    *done = true;
    return Status::OK();
  }
  size_t total = 0;
  for (const Piece& piece : pieces_) total += 2 + piece.bytes;
  const size_t pages = std::max<size_t>(1, (total + kNodeCapacityBytes - 1) / kNodeCapacityBytes);
  const size_t target = append ? kNodeCapacityBytes : total / pages;
  std::vector<std::pair<Entry, PageBuffer>> built;
  size_t first = 0;  // the page being built holds pieces [first, i)
  size_t used = 0;   // its slots and cells
  auto finish = [&](size_t end) {
    Entry page_entry;
    if (!built.empty()) {
      const std::string_view left = key_of(pieces_[first - 1]), right = key_of(pieces_[first]);
      if (right.empty() || left.compare(right) >= 0) {
        s = Status::Corruption("page " + std::to_string(id) + ": cells out of order");
      }
      page_entry.key = Keep(std::string(LeafSeparator(left, right)));
    }
    page_entry.child = built.empty() && own ? id : pager_->Allocate(1);
    page_entry.fill = used;
    PageBuffer buffer = NewPageBuffer();
    char* p = buffer.get();
    const size_t cells = end - first;
    EncodeHeader({PageType::kLeaf, static_cast<uint16_t>(cells), page_entry.child, txn_}, p);
    size_t at = kPageHeaderBytes + 2 * cells;
    for (size_t k = first; k < end; k++) {
      EncodeFixed16(p + kPageHeaderBytes + 2 * (k - first), static_cast<uint16_t>(at));
      std::memcpy(p + at, pieces_[k].data, pieces_[k].bytes);
      at += pieces_[k].bytes;
    }
    std::memset(p + at, 0, kPageBytes - at);
    built.emplace_back(page_entry, std::move(buffer));
    first = end;
    used = 0;
  };
  for (size_t i = 0; i < pieces_.size(); i++) {
    const size_t bytes = 2 + pieces_[i].bytes;
    if (i > first && !(used + bytes <= kNodeCapacityBytes && (append || used < target))) {
      finish(i);
    }
    used += bytes;
  }
  finish(pieces_.size());
  if (!s.ok()) return s;
  // Every page is built: only now may the old page's content be replaced.
  if (!own) pager_->Retire(id, 1, txn_);
  for (auto& [entry, buffer] : built) {
    if (entry.child == id) {
      Install(id, id, std::move(buffer));
    } else {
      pager_->Put(entry.child, std::move(buffer));
    }
    out->push_back(entry);
  }
  *done = true;
  return Status::OK();
}

// Ops whose children each come back as one page, not small: the copy of this
// branch gets the children's new ids, nothing else changes (and a branch
// whose children all kept their ids does not change at all). Otherwise the
// children's results go to the general path in *pre.
Status TreeWriter::EditBranch(PageId id, uint32_t level, const TreeOp* ops, size_t n,
                              std::vector<Entry>* out, bool* done, Precomputed* pre) {
  *done = false;
  PageRef& ref = held_.emplace_back();
  NodeView view;
  Status s = ReadNodePage(*pager_, id, level, txn_, {}, &ref, &view);
  if (!s.ok()) return s;
  struct Patch {
    size_t end;  // the child id is the cell's last 8 bytes
    PageId child;
  };
  std::vector<Patch> patches;
  bool editable = true;
  int next_child = 0;
  s = ChildIndex(*pager_, view, ops[0].key, txn_, {}, &next_child);
  for (size_t j = 0; s.ok() && j < n;) {
    const int i = next_child;
    size_t k = j + 1;
    for (; k < n; k++) {  // the ops that land in child i
      s = ChildIndex(*pager_, view, ops[k].key, txn_, {}, &next_child);
      if (!s.ok() || next_child != i) break;
    }
    if (!s.ok()) return s;
    Cell c;
    size_t end = 0;
    s = view.CellAt(i, &c, &end);
    if (!s.ok()) return s;
    auto& [child, replaced] = pre->results.emplace_back(i, std::vector<Entry>());
    s = ApplyNode(c.child, level - 1, ops + j, k - j, &replaced);
    if (!s.ok()) return s;
    j = k;
    if (!editable) continue;
    if (replaced.size() != 1) {
      editable = false;
      continue;
    }
    if (replaced[0].fill < kNodeCapacityBytes / 4) {
      // A small child merges if a neighbour has room for it (MergeSmallChildren).
      if (i != int(pre->results[0].first) || j != n) {
        editable = false;  // with other children changing too, the general path decides
        continue;
      }
      for (int neighbour : {i - 1, i + 1}) {
        if (neighbour < 0 || neighbour >= view.count()) continue;
        Cell nc;
        PageRef nref;
        NodeView nview;
        Cell last;
        size_t end_of_cells = 0;
        s = view.CellAt(neighbour, &nc);
        if (s.ok()) s = ReadNodePage(*pager_, nc.child, level - 1, txn_, {}, &nref, &nview);
        if (s.ok()) s = nview.CellAt(nview.count() - 1, &last, &end_of_cells);
        if (!s.ok()) return s;
        if (end_of_cells - kPageHeaderBytes + replaced[0].fill <= kNodeCapacityBytes) {
          editable = false;
        }
      }
      if (!editable) continue;
    }
    if (replaced[0].child != c.child) patches.push_back({end, replaced[0].child});
  }
  if (!editable) return Status::OK();
  pre->results.clear();
  Entry page_entry;
  page_entry.child = id;
  if (!patches.empty()) {  // else every child was replaced in place: this node is unchanged
    PageBuffer buffer = NewPageBuffer();
    char* p = buffer.get();
    std::memcpy(p, ref.data(), kPageBytes);
    page_entry.child = Own(ref.data()) ? id : pager_->Allocate(1);
    EncodeHeader({PageType::kBranch, static_cast<uint16_t>(view.count()), page_entry.child, txn_},
                 p);
    for (const Patch& patch : patches) EncodeFixed64(p + patch.end - 8, patch.child);
    Install(id, page_entry.child, std::move(buffer));
  }
  out->push_back(page_entry);
  *done = true;
  return Status::OK();
}

Status TreeWriter::ApplyLeaf(const Node& node, const TreeOp* ops, size_t n,
                             std::vector<Entry>* out) {
  const std::vector<Entry>& old = node.entries;
  const bool append = old.empty() || ops[0].key > old.back().key;
  std::vector<Entry> merged;
  merged.reserve(old.size() + n);
  size_t i = 0, j = 0;
  while (i < old.size() || j < n) {
    const int cmp = i == old.size() ? 1 : j == n ? -1 : old[i].key.compare(ops[j].key);
    if (cmp < 0) {
      merged.push_back(old[i++]);
      continue;
    }
    Entry e;
    if (cmp == 0) {  // replaced or deleted: its value run goes; a kept key keeps its run
      const Entry& was = old[i++];
      if (ops[j].put) {
        if (was.value_run != 0) pager_->Retire(was.value_run, OverflowPages(was.value_bytes), txn_);
        e.key_run = was.key_run;
      } else {
        RetireCellRuns(was);
        entries_delta_--;
      }
    } else if (ops[j].put) {
      entries_delta_++;
    }
    if (ops[j].put) {
      Status s = NewEntryForOp(ops[j], &e);
      if (!s.ok()) return s;
      merged.push_back(e);
    }
    j++;
  }
  if (merged.empty()) return Status::OK();
  return Pack(PageType::kLeaf, merged, append, out);
}

Status TreeWriter::ApplyBranch(const Node& node, uint32_t level, const TreeOp* ops, size_t n,
                               std::vector<Entry>* out, Precomputed* pre) {
  const std::vector<Entry>& old = node.entries;
  std::vector<Entry> children;
  children.reserve(old.size() + 4);
  // The child whose range holds `key`: the last i >= 1 with old[i].key <= key, else 0.
  auto child_of = [&old](std::string_view key) {
    auto it = std::upper_bound(old.begin() + 1, old.end(), key,
                               [](std::string_view k, const Entry& e) { return k < e.key; });
    return static_cast<size_t>(it - old.begin()) - 1;
  };
  const bool append = child_of(ops[0].key) == old.size() - 1;
  size_t next = 0;  // the first child not yet copied
  for (size_t j = 0; j < n;) {
    const size_t i = child_of(ops[j].key);
    children.insert(children.end(), old.begin() + next, old.begin() + i);
    size_t k = j + 1;
    if (i + 1 < old.size()) {
      while (k < n && ops[k].key < old[i + 1].key) k++;
    } else {
      k = n;
    }
    std::vector<Entry> replaced;
    if (pre->next < pre->results.size() && pre->results[pre->next].first == i) {
      replaced = std::move(pre->results[pre->next++].second);  // EditBranch applied these ops
    } else {
      Status s = ApplyNode(old[i].child, level - 1, ops + j, k - j, &replaced);
      if (!s.ok()) return s;
    }
    if (replaced.empty()) {
      if (old[i].key_run != 0)
        pager_->Retire(old[i].key_run, OverflowPages(old[i].key.size()), txn_);
    } else {
      replaced[0].key = old[i].key;  // the subtree's lower bound is unchanged
      replaced[0].key_run = old[i].key_run;
      children.insert(children.end(), replaced.begin(), replaced.end());
    }
    next = i + 1;
    j = k;
  }
  children.insert(children.end(), old.begin() + next, old.end());
  Status s = MergeSmallChildren(level - 1, &children);
  if (!s.ok() || children.empty()) return s;
  // The first child has no lower bound in this node: a separator that moved
  // there (its left neighbours are gone) is dropped.
  if (children[0].key_run != 0) {
    pager_->Retire(children[0].key_run, OverflowPages(children[0].key.size()), txn_);
  }
  children[0].key = {};
  children[0].key_run = 0;
  return Pack(PageType::kBranch, children, append, out);
}

// A child this transaction left under a quarter full is merged with a
// neighbour when the two fit in one page; else it stays as it is (it holds
// at least one cell, and merging with a full neighbour would only split again).
Status TreeWriter::MergeSmallChildren(uint32_t child_level, std::vector<Entry>* children) {
  std::vector<Entry>& c = *children;
  const PageType type = child_level == 1 ? PageType::kLeaf : PageType::kBranch;
  for (size_t i = 0; i < c.size();) {
    bool merged = false;
    if (c[i].fill < kNodeCapacityBytes / 4) {
      // The left neighbour first, then the right one.
      for (size_t left : {i - 1, i}) {
        if (left > i || left + 1 >= c.size()) continue;  // i - 1 wrapped, or no right one
        Status s = MergePair(type, child_level, &c, left, &merged);
        if (!s.ok()) return s;
        if (merged) {
          i = left;  // the merged node may still be small
          break;
        }
      }
    }
    if (!merged) i++;
  }
  return Status::OK();
}

// Merges children left and left + 1 into one node if their cells fit in one.
Status TreeWriter::MergePair(PageType type, uint32_t child_level, std::vector<Entry>* children,
                             size_t left, bool* merged) {
  std::vector<Entry>& c = *children;
  const size_t right = left + 1;
  *merged = false;
  Node a, b;
  Status s = ReadNode(c[left].child, child_level, &a);
  if (s.ok()) s = ReadNode(c[right].child, child_level, &b);
  if (!s.ok()) return s;
  std::vector<Entry> combined = std::move(a.entries);
  if (!b.leaf) {  // the separator comes down as the right node's first key
    b.entries[0].key = c[right].key;
    b.entries[0].key_run = c[right].key_run;
  }
  combined.insert(combined.end(), b.entries.begin(), b.entries.end());
  size_t bytes = 0;
  for (const Entry& e : combined) bytes += NodeCellBytes(type, e.ToCell());
  if (bytes > kNodeCapacityBytes) return Status::OK();
  pager_->Retire(a.id, 1, txn_);
  pager_->Retire(b.id, 1, txn_);
  if (b.leaf && c[right].key_run != 0) {  // leaves need no separator between them
    pager_->Retire(c[right].key_run, OverflowPages(c[right].key.size()), txn_);
  }
  std::vector<Entry> out;
  s = Pack(type, combined, false, &out);
  if (!s.ok()) return s;
  assert(out.size() == 1);
  out[0].key = c[left].key;
  out[0].key_run = c[left].key_run;
  c[left] = out[0];
  c.erase(c.begin() + right);
  *merged = true;
  return Status::OK();
}

Status TreeWriter::Pack(PageType type, std::vector<Entry>& entries, bool append,
                        std::vector<Entry>* out) {
  assert(!entries.empty());
  const bool branch = type == PageType::kBranch;
  if (branch) {
    assert(entries[0].key.empty() && entries[0].key_run == 0);
  }
  size_t total = 0;
  for (const Entry& e : entries) total += NodeCellBytes(type, e.ToCell());
  const size_t pages = std::max<size_t>(1, (total + kNodeCapacityBytes - 1) / kNodeCapacityBytes);
  const size_t target = append ? kNodeCapacityBytes : total / pages;

  NodeBuilder builder(type);
  Entry page_entry;  // the entry the parent gets for the page being built
  auto finish = [&]() {
    const PageId id = pager_->Allocate(1);
    PageBuffer buffer = NewPageBuffer();
    builder.Finish(id, txn_, buffer.get());
    pager_->Put(id, std::move(buffer));
    page_entry.child = id;
    page_entry.fill = builder.bytes();
    out->push_back(page_entry);
    builder.Reset();
  };
  for (size_t i = 0; i < entries.size(); i++) {
    Entry e = entries[i];
    if (builder.count() > 0) {
      const Cell cell = e.ToCell();
      if (builder.Fits(cell) && (append || builder.bytes() < target)) {
        builder.Add(cell);
        continue;
      }
      finish();
      page_entry = Entry();
      if (branch) {  // the first cell's key moves up to the parent
        page_entry.key = e.key;
        page_entry.key_run = e.key_run;
        e.key = {};
        e.key_run = 0;
      } else {  // the shortest key above the left page's last and <= this one
        page_entry.key = Keep(std::string(LeafSeparator(entries[i - 1].key, e.key)));
        if (!KeyInline(page_entry.key.size())) page_entry.key_run = WriteRun(page_entry.key);
      }
    }
    builder.Add(e.ToCell());
  }
  finish();
  return Status::OK();
}

// --- Check -----------------------------------------------------------------------

namespace {

// The checker reads every page from the file (past the page cache) and
// verifies every checksum, even of pages this process verified before.
constexpr PageReadOptions kCheckRead{.verify_checksum = true, .fill_cache = false, .recheck = true};

class Checker {
 public:
  Checker(const Pager& pager, const Meta& meta) : pager_(pager), meta_(meta) {
    owner_.assign(meta.page_count, 0);
  }

  Status Run(std::string* report) {
    std::vector<FreeRun> free;
    Status s = Mark(0, 2, "meta");
    if (s.ok() && meta_.root != 0) s = Walk(meta_.root, meta_.height, {}, false, {}, false, true);
    for (PageId id = meta_.free_list; s.ok() && id != 0;) {
      s = Mark(id, 1, "free-list");
      PageRef ref;
      if (s.ok()) s = pager_.Read(id, PageType::kFreeList, meta_.txn, kCheckRead, &ref);
      if (s.ok()) s = DecodeFreeListPage(ref.data(), id, &id, &free);
    }
    for (size_t i = 0; s.ok() && i < free.size(); i++)
      s = Mark(free[i].first, free[i].pages, "free");
    for (PageId id = 0; s.ok() && id < meta_.page_count; id++) {
      if (owner_[id] == 0) s = Bad("page " + std::to_string(id) + " is neither reachable nor free");
    }
    if (s.ok() && entries_ != meta_.entries) {
      s = Bad("the tree holds " + std::to_string(entries_) + " entries, the meta says " +
              std::to_string(meta_.entries));
    }
    if (s.ok() && report != nullptr) {
      *report =
          "height " + std::to_string(meta_.height) + ", " + std::to_string(entries_) +
          " entries, " + std::to_string(leaves_) + " leaves (" +
          std::to_string(leaves_ == 0 ? 0 : leaf_bytes_ * 100 / (leaves_ * kNodeCapacityBytes)) +
          "% full), " + std::to_string(branches_) + " branches, " +
          std::to_string(overflow_pages_) + " overflow pages, " + std::to_string(meta_.page_count) +
          " pages";
    }
    return s;
  }

 private:
  Status Bad(const std::string& what) const {
    return Status::Corruption(pager_.path() + ": check: " + what);
  }
  Status Mark(PageId first, uint64_t pages, const char* as) {
    if (first + pages > meta_.page_count || first + pages < first) {
      return Bad(std::string(as) + " page " + std::to_string(first) + " is past page_count");
    }
    for (PageId id = first; id < first + pages; id++) {
      if (owner_[id] != 0) {
        return Bad("page " + std::to_string(id) + " is reached twice (" + as + ")");
      }
      owner_[id] = 1;
    }
    return Status::OK();
  }
  Status CheckRun(PageId run, uint64_t bytes, std::string* data) {
    Status s = Mark(run, OverflowPages(bytes), "overflow");
    if (s.ok()) s = ReadRun(pager_, run, bytes, meta_.txn, kCheckRead, data);
    overflow_pages_ += OverflowPages(bytes);
    return s;
  }
  // Every key k in the subtree must satisfy lower <= k < upper.
  Status Walk(PageId id, uint32_t level, std::string lower, bool has_lower, std::string upper,
              bool has_upper, bool root) {
    Status s = Mark(id, 1, level == 1 ? "leaf" : "branch");
    PageRef ref;
    NodeView node;
    if (s.ok()) s = ReadNodePage(pager_, id, level, meta_.txn, kCheckRead, &ref, &node);
    if (!s.ok()) return s;
    if (root && level > 1 && node.count() < 2) return Bad("the root branch has one child");
    std::string prev;
    for (int i = 0; i < node.count(); i++) {
      Cell c;
      s = node.CellAt(i, &c);
      std::string key_storage;
      std::string_view key;
      if (s.ok() && c.key_run != 0) s = CheckRun(c.key_run, c.key_bytes, &key_storage);
      if (s.ok()) s = CellKey(pager_, c, meta_.txn, kCheckRead, &key_storage, &key);
      if (!s.ok()) return s;
      const std::string where = "page " + std::to_string(id) + " cell " + std::to_string(i);
      if (level > 1 && i == 0) {
        if (!key.empty()) return Bad(where + ": a branch's first key is not empty");
      } else {
        if (i > 0 && key <= prev) return Bad(where + ": keys out of order");
        if ((has_lower && key < lower) || (has_upper && key >= upper)) {
          return Bad(where + ": key outside the bounds its parent gives");
        }
      }
      prev.assign(key);
      if (level == 1) {
        entries_++;
        leaf_bytes_ += NodeCellBytes(PageType::kLeaf, c);
        std::string value;
        if (c.value_run != 0) s = CheckRun(c.value_run, c.value_bytes, &value);
        if (!s.ok()) return s;
        continue;
      }
      // Child i holds [key(i), key(i+1)); the first child inherits our lower bound.
      std::string child_lower = i == 0 ? lower : std::string(key);
      bool child_has_lower = i == 0 ? has_lower : true;
      std::string child_upper = upper;
      bool child_has_upper = has_upper;
      if (i + 1 < node.count()) {
        Cell next;
        std::string next_storage;
        std::string_view next_key;
        s = node.CellAt(i + 1, &next);
        if (s.ok()) s = CellKey(pager_, next, meta_.txn, kCheckRead, &next_storage, &next_key);
        if (!s.ok()) return s;
        child_upper.assign(next_key);
        child_has_upper = true;
      }
      s = Walk(c.child, level - 1, child_lower, child_has_lower, child_upper, child_has_upper,
               false);
      if (!s.ok()) return s;
    }
    if (level == 1) {
      leaves_++;
    } else {
      branches_++;
    }
    return Status::OK();
  }

  const Pager& pager_;
  const Meta& meta_;
  std::vector<uint8_t> owner_;  // 1 once a page is accounted for
  uint64_t entries_ = 0, leaves_ = 0, branches_ = 0, leaf_bytes_ = 0, overflow_pages_ = 0;
};

}  // namespace

Status CheckTree(const Pager& pager, const Meta& meta, std::string* report) {
  return Checker(pager, meta).Run(report);
}

}  // namespace lightning::btree
