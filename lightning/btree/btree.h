// The B+Tree's algorithms: lookups, cursors, copy-on-write updates and the
// structural check, over pages a Pager holds. No locking here: a reader works
// on a pinned TreeRoot, whose pages the pager keeps intact; a TreeWriter is
// one transaction of the one writer.
//
// An update copies the path to every leaf it changes (copy-on-write): the
// new leaves, their new parents up to a new root, and overflow runs for new
// large keys and values; every page replaced is retired with the
// transaction's id. A node that a change leaves under a quarter full is
// merged with a sibling if the two fit in one page; a node that overflows is
// split into balanced pages,
// except where every change lands past its last key (ascending inserts), which
// fills pages completely.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lightning/btree/pager.h"
#include "lightning/iterator.h"

namespace lightning::btree {

// One committed state of the tree.
struct TreeRoot {
  uint64_t txn = 0;
  PageId root = 0;      // 0: empty
  uint32_t height = 0;  // 0: empty; 1: the root is a leaf
  uint64_t entries = 0;
};

// NotFound if `key` is absent.
Status TreeGet(const Pager& pager, const TreeRoot& tree, std::string_view key, PageReadOptions read,
               std::string* value);

// An iterator over `tree`; `on_destroy` runs when it is destroyed (unpins the version).
std::unique_ptr<Iterator> NewTreeIterator(const Pager* pager, const TreeRoot& tree,
                                          PageReadOptions read, std::function<void()> on_destroy);

struct TreeOp {
  std::string_view key;
  std::string_view value;
  bool put = true;  // false: delete
  // A value already in the page file: the overflow run that holds it, and
  // its length (value is then empty). The engine writes a large value there
  // before the log record that names it (BTreeDB), so it is written once;
  // the new leaf cell points to the run.
  PageId value_run = 0;
  uint32_t run_bytes = 0;
  size_t value_bytes() const { return value_run != 0 ? run_bytes : value.size(); }
};

// One write transaction, txn (> base.txn), on top of `base`. Views in the
// ops must stay valid until Apply returns.
//
// Copy-on-write applies to pages others may see: those of transactions up to
// `shared_up_to` (the newest version a reader pins, or a checkpoint wrote).
// A newer page (its header's txn) is the writer's own: no reader and no
// durable meta reaches it, so an edit replaces it under its own id and its
// parent stays as it is.
class TreeWriter {
 public:
  TreeWriter(Pager* pager, const TreeRoot& base, uint64_t txn, uint64_t shared_up_to)
      : pager_(pager), base_(base), txn_(txn), shared_up_to_(shared_up_to) {}
  // REQUIRES: ops sorted by key, no key twice. *result is the new tree. On
  // error base is whole again (pages replaced in place get their old content
  // back), but the pager's free-page state is unknown: the engine stops
  // writing.
  Status Apply(const std::vector<TreeOp>& ops, TreeRoot* result);

 private:
  Status ApplyOps(const std::vector<TreeOp>& ops, TreeRoot* result);
  struct Entry;
  struct Node;
  Status ReadNode(PageId id, uint32_t level, Node* node);
  Status ApplyNode(PageId id, uint32_t level, const TreeOp* ops, size_t n, std::vector<Entry>* out);
  Status ApplyLeaf(const Node& node, const TreeOp* ops, size_t n, std::vector<Entry>* out);
  // The children's results EditBranch computed before falling back to
  // ApplyBranch: (child index, replacement), in child order.
  struct Precomputed {
    std::vector<std::pair<size_t, std::vector<Entry>>> results;
    size_t next = 0;  // the first result ApplyBranch has not used
  };
  Status EditLeaf(PageId id, const TreeOp* ops, size_t n, std::vector<Entry>* out, bool* done);
  Status RewriteLeaf(PageId id, const TreeOp* ops, size_t n, std::vector<Entry>* out, bool* done);
  Status EditBranch(PageId id, uint32_t level, const TreeOp* ops, size_t n, std::vector<Entry>* out,
                    bool* done, Precomputed* pre);
  Status ApplyBranch(const Node& node, uint32_t level, const TreeOp* ops, size_t n,
                     std::vector<Entry>* out, Precomputed* pre);
  Status MergeSmallChildren(uint32_t child_level, std::vector<Entry>* children);
  Status MergePair(PageType type, uint32_t child_level, std::vector<Entry>* children, size_t left,
                   bool* merged);
  Status Pack(PageType type, std::vector<Entry>& entries, bool append, std::vector<Entry>* out);
  Status NewEntryForOp(const TreeOp& op, Entry* e);
  PageId WriteRun(std::string_view data);
  // The page is newer than shared_up_to_: no reader and no durable meta
  // reaches it, so it may be replaced in place.
  bool Own(const char* page) const;
  // The edited copy of node `old_id` becomes page `new_id`: old_id itself
  // (Own; the old content is kept for an undo), or a new page, old_id retired.
  void Install(PageId old_id, PageId new_id, PageBuffer buffer);
  std::string_view Keep(std::string s);
  void RetireCellRuns(const Entry& e);

  Pager* const pager_;
  const TreeRoot base_;
  const uint64_t txn_;
  const uint64_t shared_up_to_;
  int64_t entries_delta_ = 0;
  std::deque<PageRef> held_;         // pages the entries' views point into (stable addresses)
  std::deque<std::string> storage_;  // keys the writer made (separators, loaded keys)
  std::vector<std::pair<PageId, PageBuffer>> undo_;  // own pages replaced: id, old content
  // EditLeaf's and RewriteLeaf's scratch, kept between calls for its capacity.
  struct Piece {
    const char* data;  // nullptr: at `offset` in fresh_cells_
    uint32_t offset;
    uint32_t bytes;  // the cell's encoding, its slot not included
  };
  std::vector<Piece> pieces_;
  std::string fresh_cells_;
};

// Walks the durable state of `meta` in the file (call it right after a
// checkpoint) and checks every page: checksums, headers, key order within and
// across nodes, separators bounding their subtrees, equal leaf depth, no empty
// node, overflow runs whole, the entry count, and that every page below
// page_count is reachable exactly once -- as a node, overflow or free-list
// page -- or is named free by the free list. Corruption names the first
// problem; *report (if not null) summarizes the tree.
Status CheckTree(const Pager& pager, const Meta& meta, std::string* report);

}  // namespace lightning::btree
