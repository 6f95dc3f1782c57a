// Pager: the B+Tree's page file, which pages are in memory, and which are free.
//
// Pages are copy-on-write. A transaction never changes a page a reader or the
// durable meta can reach: it allocates new page ids, fills new buffers, and
// hands them to the pager (Put); they are "dirty" (in memory only) until a
// checkpoint writes them. The pages a transaction replaced are "retired"
// with that transaction's id, and their ids are reused only when
//  - no reader holds a version older than the retiring transaction
//    (Reclaim(min_pinned_txn)), and
//  - if the durable meta reaches the page (it was written by a checkpoint),
//    a newer checkpoint is durable.
// So every page the durable meta reaches stays intact until a newer meta is
// durable, and every page a pinned version reaches stays intact and readable.
//
// Checkpoint writes the live dirty pages (sorted, contiguous ones in one
// write), then the free list (new pages), fsyncs the file, then writes the
// meta page of the transaction's parity and fsyncs again: the new state is
// durable exactly when the second fsync returns. A crash before it leaves the
// previous meta and every page it reaches untouched. The writing may run on
// another thread while the writer goes on (BeginCheckpoint, WriteCheckpoint,
// FinishCheckpoint): the pages it writes count as durable from its start, so
// none of them is reused or edited before the checkpoint after it.
//
// Reads. A page that is not dirty is read through a read-only shared memory
// map of the file when the file system offers one (RandomRWFile::View), else
// with pread into a buffer kept in a bounded LRU cache (BlockCache). Each
// page's checksum is verified the first time it is read from the file (or
// from the file into the cache), and not again while this process runs
// unless a read asks to recheck (the checker does): after that it only
// changes through this pager's own writes, of pages that no reader can reach
// until they are written (see Retire). Pages this process builds are checked when built,
// and sealed (checksummed) when a checkpoint writes them.
//
// Thread safety: Read may be called from any thread at any time, and
// WriteCheckpoint from one other thread while the writer goes on. Everything
// else is for the one writer at a time (the engine's write lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "lightning/btree/page.h"
#include "lightning/file_system.h"
#include "lightning/status.h"
#include "lightning/util/block_cache.h"

namespace lightning::btree {

using PageBuffer = std::shared_ptr<char[]>;
// An uninitialized kPageBytes buffer. Buffers are recycled through a small
// pool: a 4 KiB buffer per page edit is the writer's most frequent
// allocation, and one the C library's allocator serves slowly.
PageBuffer NewPageBuffer();
// An open database may hold `bytes` more in page buffers at once: the pool
// keeps that much more for reuse (a negative `bytes` when it closes).
void GrowPageBufferPool(int64_t bytes);

// How one read treats pages it reads from the file (from ReadOptions).
//  verify_checksum: check a page's checksum on its first read from the file
//    in this process (a page already verified is not checked again).
//  fill_cache: without a memory map, a page read with pread is kept in the
//    page cache. The cache holds only verified pages, so a page read to be
//    cached is verified even when verify_checksum is false.
//  recheck: read past the page cache and verify the checksum even of a page
//    verified before (the checker: damage that appears while the process
//    runs is found too).
struct PageReadOptions {
  bool verify_checksum = true;
  bool fill_cache = true;
  bool recheck = false;
};

// A page held for reading: data() stays valid while the PageRef lives.
class PageRef {
 public:
  const char* data() const { return data_; }

 private:
  friend class Pager;
  const char* data_ = nullptr;
  std::shared_ptr<const void> held_;  // a dirty page's buffer, or a copy read from the file
};

struct PagerStats {
  uint64_t page_count = 0;     // pages in the file, free ones included
  uint64_t free_pages = 0;     // reusable now
  uint64_t retired_pages = 0;  // waiting for readers or a checkpoint
  uint64_t dirty_pages = 0;
  uint64_t checkpoints = 0;
  uint64_t pages_written = 0;
  uint64_t bytes_written = 0;  // to the page file, metas and free list included
  bool mapped = false;         // reads go through a memory map, not the cache
  uint64_t cache_hits = 0;     // pages found in the cache (reads without a map)
  uint64_t cache_misses = 0;   // pages read from the file with pread
};

class Pager {
 public:
  // Opens the page file at `path`. With `create` (the database has no log
  // yet) and a file whose newest valid meta is older than the first
  // checkpoint (transaction 2), or that has none -- a creation that never
  // finished -- writes two meta pages of an empty tree replaying from
  // `log_number`, synced. *meta is the newest valid meta. Corruption if no
  // meta page is valid. `cache` (may be null: no cache) holds pages read
  // with pread; it must outlive the pager.
  static Status Open(FileSystem* fs, const std::string& path, bool create, uint64_t log_number,
                     BlockCache* cache, std::unique_ptr<Pager>* pager, Meta* meta);
  ~Pager();

  // The page `id` of `type` as the version with transaction `max_txn` sees
  // it: from memory if it is dirty, else from the file. Corruption (naming
  // the file and page) if its checksum or header is wrong.
  Status Read(PageId id, PageType type, uint64_t max_txn, PageReadOptions read, PageRef* ref) const;

  // --- For the writer ---

  // Ids of `pages` consecutive free pages (from the free list, else past the end).
  PageId Allocate(uint64_t pages);
  // Makes `buffer` the content of dirty page `id` (its checksum need not be
  // set: a checkpoint seals each page as it writes it).
  void Put(PageId id, PageBuffer buffer);
  // Gives live dirty page `id` new content and returns the old buffer (for
  // an undo). Only for a page no reader and no durable meta can reach: one
  // built by the writer's open transaction (see BTreeDB's header comment).
  PageBuffer Replace(PageId id, PageBuffer buffer);
  // Pages [first, first + pages) were replaced by transaction `txn`.
  void Retire(PageId first, uint64_t pages, uint64_t txn);
  // Retired pages no version >= min_pinned_txn reaches become free (see the
  // header comment).
  void Reclaim(uint64_t min_pinned_txn);
  // Large values are written into the page file at once, before the log
  // record that names them (BTreeDB), so that they are written once:
  //  - WriteValueRun puts `value` in a new overflow run of transaction `txn`
  //    (pages sealed, in the file when it returns, so a process crash keeps
  //    them; their writeback starts at once, so that the fsync that makes
  //    them durable has less to wait for) and returns its first page and
  //    *checksum, the CRC32C of its pages' checksums, which the log record
  //    keeps.
  //  - SyncValues makes every run written so far durable; the engine calls it
  //    before any fsync of a log that may name one.
  //  - CheckValueRun (recovery) says whether the run a log record names is
  //    intact: each page's checksum and header (an overflow page of `txn`),
  //    then `checksum`. Corruption if not: the value never became durable
  //    (its record was not synced), or was damaged since.
  // Until a checkpoint reaches it, only a log record does: a run retired
  // before then waits for a checkpoint, as the record may still be replayed
  // (Retire: its pages are not dirty).
  Status WriteValueRun(std::string_view value, uint64_t txn, PageId* first, uint32_t* checksum);
  Status SyncValues();
  Status CheckValueRun(PageId first, uint64_t bytes, uint64_t txn, uint32_t checksum) const;
  // Recovery, before the logs are replayed: the run [first, first + pages)
  // that a log record names is taken out of the free pages (and the page
  // count extended past it), so that the replay's own pages never land on
  // it. Corruption if a page of it is in use: no crash makes a log record
  // name a page the durable meta reaches. Unreserve frees one whose record
  // was not applied. REQUIRES: first + pages <= the file's pages.
  Status Reserve(PageId first, uint64_t pages);
  void Unreserve(PageId first, uint64_t pages) { Free(first, pages); }
  uint64_t file_pages() const { return file_pages_; }
  // Bytes of the live dirty pages: what the next checkpoint writes (and,
  // while one runs, what it is writing).
  uint64_t dirty_bytes() const { return live_dirty_pages_ * kPageBytes; }

  // The transaction id a checkpoint after transaction `txn` gives its meta:
  // the next one >= txn of the parity the last durable meta does not have.
  uint64_t MetaTxnAfter(uint64_t txn) const { return txn % 2 != durable_.txn % 2 ? txn : txn + 1; }
  // Makes a meta durable (see the header comment) in three steps, so that the
  // writing can run on another thread while the writer goes on:
  //  - BeginCheckpoint (the writer) picks what to write: the live dirty
  //    pages and a new free list. From then on those pages count as durable:
  //    one retired later waits for the checkpoint after this one, as the new
  //    meta may reach it. REQUIRES: meta.txn ==
  //    MetaTxnAfter(the last transaction), every live dirty page reachable
  //    from meta.root.
  //  - WriteCheckpoint (any one thread) writes them, fsyncs, writes the meta
  //    page, fsyncs. It changes nothing the writer or readers use.
  //  - FinishCheckpoint (the writer, once WriteCheckpoint returned OK): the
  //    meta is the durable one; the written pages leave memory; the pages the
  //    old meta reached (retired before Begin) wait only for readers.
  //    After a failed WriteCheckpoint the pager must not be used for writing.
  // Pages the writer dirties meanwhile are the next checkpoint's.
  void BeginCheckpoint(const Meta& meta);
  Status WriteCheckpoint();
  void FinishCheckpoint();
  const Meta& durable_meta() const { return durable_; }
  // At Open, one meta page failed validation and the other was used. After
  // creation only WriteCheckpoint writes a meta page, so (short of
  // damage) that checkpoint had already synced its new log's marker, which
  // recovery then requires to find (BTreeDB::Recover).
  bool meta_damaged() const { return meta_damaged_; }

  PagerStats stats() const;
  const std::string& path() const { return path_; }

 private:
  struct Dirty {
    PageBuffer buffer;
    bool retired = false;
    bool writing = false;  // picked by the checkpoint in progress: counts as durable
  };
  // A checkpoint between BeginCheckpoint and FinishCheckpoint.
  struct PendingCheckpoint {
    Meta meta;
    std::vector<std::pair<PageId, PageBuffer>> pages;  // by id: dirty pages, then free list
    size_t dirty_pages = 0;                            // the first ones of `pages`
    std::vector<PageId> free_list;                     // its pages, in list order
    bool extend = false;        // write page meta.page_count - 1 so the file covers page_count
    size_t retired_before = 0;  // entries of waiting_checkpoint_ the old meta reaches
    uint64_t pages_written = 0, bytes_written = 0;
  };
  // A memory view of the file's first `bytes` (nullptr: read with Read).
  struct View {
    const char* base = nullptr;
    uint64_t bytes = 0;
    // Bit p of word p / 64: page p's checksum has been verified (through
    // this view or, copied when this one was made, an older one).
    std::unique_ptr<std::atomic<uint64_t>[]> verified;
  };

  Pager(FileSystem* fs, std::string path, std::unique_ptr<RandomRWFile> file, BlockCache* cache);
  Status LoadFreeList(const Meta& meta);
  void Free(PageId first, uint64_t pages);
  // Seals copies of `pages` and writes them at page `first`.
  Status WritePages(PageId first, const std::vector<const char*>& pages, PendingCheckpoint* job);
  // Every page free in the state a checkpoint makes durable: free now,
  // retired, or holding the durable free list (which the new meta replaces).
  std::vector<FreeRun> FreeRunsForMeta() const;
  void RefreshView();

  FileSystem* const fs_;
  const std::string path_;
  std::unique_ptr<RandomRWFile> file_;
  BlockCache* const cache_;  // may be null
  const uint64_t cache_id_;

  // Dirty pages, which readers look up (under dirty_mu_).
  mutable std::mutex dirty_mu_;
  std::unordered_map<PageId, Dirty> dirty_;
  std::atomic<uint64_t> dirty_pages_{0};  // entries in dirty_, live or retired

  std::atomic<const View*> view_{nullptr};
  std::vector<std::unique_ptr<View>> views_;  // every view made, kept until destruction

  // The writer's state.
  Meta durable_;                          // the newest durable meta
  uint64_t file_pages_ = 0;               // pages the file holds (written so far)
  uint64_t page_count_ = kFirstDataPage;  // pages at or past this are unallocated
  std::map<PageId, uint64_t> free_;       // runs free now: first -> pages
  // Retired runs by retiring transaction: free once no reader is older.
  std::multimap<uint64_t, FreeRun> waiting_readers_;
  // Retired runs the durable meta reaches: they wait for the next checkpoint.
  std::vector<std::pair<uint64_t, FreeRun>> waiting_checkpoint_;
  std::vector<PageId> free_list_pages_;  // pages holding the durable free list
  uint64_t live_dirty_pages_ = 0;        // entries in dirty_ not retired
  PagerStats stats_;
  std::unique_ptr<PendingCheckpoint> pending_;
  bool meta_damaged_ = false;
  bool values_unsynced_ = false;  // WriteValueRun wrote since the last SyncValues
  std::string run_buffer_;        // WriteValueRun's pages, reused
};

}  // namespace lightning::btree
