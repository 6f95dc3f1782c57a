// SkipList: the sorted in-memory index under the memtable.
//
// Keys are inserted, never removed or changed; nodes live in an Arena and are
// freed with it. Comparator is a functor: int operator()(const Key&, const Key&).
//
// Thread safety: one writer at a time (the caller serializes Insert), and any
// number of concurrent readers without locks. A node is fully built before a
// release-store links it in, and readers follow links with acquire-loads, so a
// reader sees either the old list or a correctly linked new node. Nodes are
// never unlinked, so a reader's position stays valid while the list grows.
//
// The writer remembers where its last insert went (the new node's
// predecessors on every level). A key just after it (an ascending load, the
// next key of a sorted batch) is then found by climbing from there until a
// level's next node lies beyond the key and descending again: a few
// comparisons on nodes still in the CPU cache instead of a search from the
// head.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <new>

#include "lightning/util/arena.h"
#include "lightning/util/random.h"

namespace lightning {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  // REQUIRES: arena outlives the list.
  SkipList(Comparator cmp, Arena* arena);
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: nothing equal to key is in the list; one writer at a time.
  // climb_limit: how many levels the search may climb from the last insert
  // before it starts from the head instead (small for keys in no particular
  // order, kMaxHeight for a run of ascending keys).
  void Insert(const Key& key, int climb_limit = 0);
  bool Contains(const Key& key) const;
  // For tests: every level is strictly increasing and a sublist of the level
  // below (what searches rely on to be both right and fast). Not thread-safe
  // with a concurrent writer.
  bool CheckLevels() const;

  // A cursor over the list; it sees keys inserted while it is in use from the
  // moment they are linked in.
  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list) {}
    bool Valid() const { return node_ != nullptr; }
    const Key& key() const {  // REQUIRES: Valid()
      assert(Valid());
      return node_->key;
    }
    void Next() {  // REQUIRES: Valid()
      assert(Valid());
      node_ = node_->Next(0);
    }
    // Nodes have no back links: search for the last node before this one.
    void Prev() {  // REQUIRES: Valid()
      assert(Valid());
      node_ = list_->FindLessThan(node_->key);
      if (node_ == list_->head_) node_ = nullptr;
    }
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }
    void SeekToLast() {
      node_ = list_->FindLast();
      if (node_ == list_->head_) node_ = nullptr;
    }

   private:
    const SkipList* list_;
    Node* node_ = nullptr;
  };

 public:
  static constexpr int kMaxHeight = 12;

 private:
  static constexpr int kBranching = 4;  // each level holds ~1/4 of the nodes below

  int GetMaxHeight() const { return max_height_.load(std::memory_order_relaxed); }
  Node* NewNode(const Key& key, int height);
  int RandomHeight();
  bool Equal(const Key& a, const Key& b) const { return compare_(a, b) == 0; }
  bool KeyIsAfterNode(const Key& key, Node* n) const {
    return n != nullptr && compare_(n->key, key) < 0;
  }
  // The first node >= key, or nullptr; fills prev[level] with the last node
  // before it on each level when prev != nullptr.
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const;
  // Like FindGreaterOrEqual(key, prev) for a key after the last inserted one,
  // starting from last_prev_; false (prev untouched) if that would climb
  // more than climb_limit levels.
  bool FindFromLastInsert(const Key& key, int climb_limit, Node** prev) const;
  // The last node < key, or head_.
  Node* FindLessThan(const Key& key) const;
  // The last node, or head_ if the list is empty.
  Node* FindLast() const;

  const Comparator compare_;
  Arena* const arena_;
  Node* const head_;
  // Readers may see a stale height: the extra levels then hold only nullptr
  // links from head_, which is still correct.
  std::atomic<int> max_height_{1};
  Random rnd_{0xdeadbeef};  // writer only
  // Writer only: the last inserted node (nullptr before the first), and on
  // each level the last node <= it, so every entry is a valid predecessor of
  // any larger key.
  Node* last_ = nullptr;
  Node* last_prev_[kMaxHeight];
  bool last_insert_hit_ = false;  // the last insert started from the one before
  unsigned inserts_since_try_ = 0;
};

// A node is the key followed by `height` links, allocated as one arena block.
template <typename Key, class Comparator>
struct alignas(std::atomic<void*>) SkipList<Key, Comparator>::Node {
  explicit Node(const Key& k) : key(k) {}

  Key const key;

  Node* Next(int level) { return link(level)->load(std::memory_order_acquire); }
  // Publishes n: everything written to it before is visible to readers.
  void SetNext(int level, Node* n) { link(level)->store(n, std::memory_order_release); }
  // For links no reader can reach yet, or that the caller publishes later.
  Node* NoBarrierNext(int level) { return link(level)->load(std::memory_order_relaxed); }
  void NoBarrierSetNext(int level, Node* n) { link(level)->store(n, std::memory_order_relaxed); }

 private:
  std::atomic<Node*>* link(int level) {
    return std::launder(reinterpret_cast<std::atomic<Node*>*>(this + 1)) + level;
  }
};

template <typename Key, class Comparator>
SkipList<Key, Comparator>::SkipList(Comparator cmp, Arena* arena)
    : compare_(cmp), arena_(arena), head_(NewNode(Key(), kMaxHeight)) {
  for (Node*& p : last_prev_) p = head_;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::NewNode(const Key& key,
                                                                             int height) {
  char* mem = arena_->AllocateAligned(sizeof(Node) + sizeof(std::atomic<Node*>) * height);
  Node* node = new (mem) Node(key);
  auto* links = reinterpret_cast<std::atomic<Node*>*>(mem + sizeof(Node));
  for (int i = 0; i < height; i++) new (links + i) std::atomic<Node*>(nullptr);
  return node;
}

template <typename Key, class Comparator>
int SkipList<Key, Comparator>::RandomHeight() {
  int height = 1;
  while (height < kMaxHeight && rnd_.OneIn(kBranching)) height++;
  return height;
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindGreaterOrEqual(
    const Key& key, Node** prev) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (KeyIsAfterNode(key, next)) {
      x = next;
    } else {
      if (prev != nullptr) prev[level] = x;
      if (level == 0) return next;
      level--;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLessThan(
    const Key& key) const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr && compare_(next->key, key) < 0) {
      x = next;
    } else {
      if (level == 0) return x;
      level--;
    }
  }
}

template <typename Key, class Comparator>
typename SkipList<Key, Comparator>::Node* SkipList<Key, Comparator>::FindLast() const {
  Node* x = head_;
  int level = GetMaxHeight() - 1;
  while (true) {
    Node* next = x->Next(level);
    if (next != nullptr) {
      x = next;
    } else {
      if (level == 0) return x;
      level--;
    }
  }
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::FindFromLastInsert(const Key& key, int climb_limit,
                                                   Node** prev) const {
  if (last_ == nullptr || compare_(last_->key, key) >= 0) return false;
  // Climb while the next node on this level is still before the key. Every
  // node at a higher level is also on this one, so once this level's next
  // node is past the key, so are the higher levels': last_prev_ holds their
  // predecessors already.
  const int top = GetMaxHeight() - 1;
  int level = 0;
  while (level < top && KeyIsAfterNode(key, last_prev_[level]->Next(level))) {
    if (++level > climb_limit) return false;
  }
  for (int i = level + 1; i <= top; i++) prev[i] = last_prev_[i];
  Node* x = last_prev_[level];
  while (true) {
    Node* next = x->Next(level);
    if (KeyIsAfterNode(key, next)) {
      x = next;
    } else {
      prev[level] = x;
      if (level == 0) return true;
      level--;
    }
  }
}

template <typename Key, class Comparator>
void SkipList<Key, Comparator>::Insert(const Key& key, int climb_limit) {
  Node* prev[kMaxHeight];
  // Keys in no particular order rarely land next to the last one: after a
  // miss, only every 16th insert tries again, so they pay almost nothing.
  const bool try_last = climb_limit > 0 || last_insert_hit_ || ++inserts_since_try_ % 16 == 0;
  last_insert_hit_ = try_last && FindFromLastInsert(key, climb_limit, prev);
  if (!last_insert_hit_) FindGreaterOrEqual(key, prev);
  assert(prev[0]->Next(0) == nullptr || !Equal(key, prev[0]->Next(0)->key));

  int height = RandomHeight();
  if (height > GetMaxHeight()) {
    for (int i = GetMaxHeight(); i < height; i++) prev[i] = head_;
    max_height_.store(height, std::memory_order_relaxed);
  }
  Node* x = NewNode(key, height);
  for (int i = 0; i < height; i++) {
    // The new node's own links need no barrier: SetNext publishes it after.
    x->NoBarrierSetNext(i, prev[i]->NoBarrierNext(i));
    prev[i]->SetNext(i, x);
  }
  last_ = x;
  const int max_height = GetMaxHeight();
  for (int i = 0; i < max_height; i++) last_prev_[i] = i < height ? x : prev[i];
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::CheckLevels() const {
  for (int level = GetMaxHeight() - 1; level >= 0; level--) {
    Node* below = head_->Next(level > 0 ? level - 1 : 0);
    for (Node* x = head_->Next(level); x != nullptr; x = x->Next(level)) {
      Node* next = x->Next(level);
      if (next != nullptr && compare_(x->key, next->key) >= 0) return false;
      if (level > 0) {  // x must appear on the level below, at or after `below`
        while (below != nullptr && below != x) below = below->Next(level - 1);
        if (below == nullptr) return false;
      }
    }
  }
  return true;
}

template <typename Key, class Comparator>
bool SkipList<Key, Comparator>::Contains(const Key& key) const {
  Node* x = FindGreaterOrEqual(key, nullptr);
  return x != nullptr && Equal(key, x->key);
}

}  // namespace lightning
