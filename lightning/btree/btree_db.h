// BTreeDB: the copy-on-write B+Tree engine behind lightning::DB
// (Options::engine = Engine::kBTree).
//
// Files in the database directory:
//   PAGES        the page file (page.h; pager.h): meta pages, tree, free list
//   NNNNNN.log   the write-ahead log since the last checkpoint (lightning/wal/)
//   LOCK         held while the database is open
//
// Write path: a write without sync takes the write lock (a spinning mutex),
// appends its batch to the log as one record, applies it to the tree as one
// transaction in memory and publishes the new root. Sync writes queue; the
// one at the front (the leader) takes the write lock, merges the queued
// batches into one record, appends and fsyncs it, and applies the group as
// one transaction. So a write survives a process crash once acknowledged,
// and a synced one a power loss.
// A page that no reader pins and no checkpoint wrote is the leader's own:
// it edits such a page in place rather than copying it again
// (btree::TreeWriter), so a run of writes with no reader holding the tree
// changes each leaf in memory the way LMDB's write transaction edits its
// dirty pages. A reader arriving during such an edit waits for it to end,
// then pins the new version (and so keeps the writer off its pages). Readers
// see only whole groups; they may wait for the leader's in-memory apply; a
// writer never waits for a reader.
// A value of 16 KiB or more is written into the page file first, and the
// log record names it instead of holding it (written once, not to the log
// and again by a checkpoint); every log fsync is preceded by one of the page
// file, and recovery checks each named value (docs/btree_format.md).
// When the transactions' dirty pages pass write_buffer_bytes (64 MiB unless
// set: random writes coalesce in memory, and each checkpoint syncs), the
// writer starts a checkpoint: it fsyncs the log, starts a new one (its first
// record, a marker, synced), and picks the dirty pages; a background thread
// writes them, fsyncs, writes the meta page naming the new log and fsyncs
// again, and deletes the older logs, while writers go on in the new log. A
// later write finishes it (the written pages leave memory); one that finds the
// dirty pages past twice the write buffer waits for it. Flush, Check, Close
// and recovery checkpoint synchronously.
//
// Read path: a read pins the current root (its transaction id), reads pages
// without any lock a writer holds, and unpins. Pages a pinned root reaches are
// never reused (pager.h). Snapshots and iterators pin their root for their
// lifetime.
//
// Recovery: the newest valid meta page gives the tree and the first log to
// replay; its records with sequence numbers past the meta's are applied in
// order (a torn tail ends its log, and replay goes on with the next log; a gap
// in the sequence numbers is Corruption), then a checkpoint makes the result
// the new durable state.
//
// Errors: a failed log write, fsync or checkpoint makes every later write
// return that error (sticky); reads keep working; reopening recovers what
// is durable.
//
// Thread safety: all public methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lightning/btree/btree.h"
#include "lightning/btree/pager.h"
#include "lightning/db.h"
#include "lightning/util/adaptive_mutex.h"
#include "lightning/wal/log_writer.h"

namespace lightning {

class BTreeDB final : public DB {
 public:
  static Status Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db);
  ~BTreeDB() override;

  Status Put(const WriteOptions& o, std::string_view key, std::string_view value) override;
  Status Delete(const WriteOptions& o, std::string_view key) override;
  Status Write(const WriteOptions& o, WriteBatch* batch) override;
  Status Get(const ReadOptions& ro, std::string_view key, std::string* value) override;
  std::unique_ptr<Iterator> NewIterator(const ReadOptions& ro) override;
  const Snapshot* GetSnapshot() override;
  void ReleaseSnapshot(const Snapshot* snapshot) override;
  Status Sync() override;
  Status Flush() override;
  Status Close() override;
  bool GetProperty(std::string_view name, std::string* value) override;
  // There are no levels to merge: a checkpoint (like Flush). Pages are not moved.
  Status CompactAll() override { return Flush(); }
  Status Check() override;

 private:
  struct Writer;
  enum class Job { kWrite, kSync, kCheckpoint, kCheck, kStats, kClose };

  BTreeDB(const Options& options, std::string path);
  int64_t PoolBytes() const;  // what this database adds to the page-buffer pool
  Status Recover();
  // *read_any: the log had at least one readable record (its marker).
  Status ReplayLog(uint64_t number, bool* read_any);
  Status OpenLog(uint64_t number, std::unique_ptr<SequentialFile>* file, std::string* name);
  bool InTree(const WriteBatch& batch) const;  // REQUIRES: recovering
  Status ApplyBatch(const WriteBatch& batch);
  // Recovery: the value runs that the records to replay name are taken out
  // of the free pages (reserved_), so that the replay never allocates them.
  Status ReserveLoggedValues(const std::vector<uint64_t>& logs, uint64_t first_log);
  Status SyncLog(log::Writer* log);
  Status Checkpoint();
  Status MaybeCheckpoint();
  Status BeginCheckpoint();
  Status FinishCheckpoint();
  void EndCheckpoint();
  // Deletes the logs numbered below `log_number` (those of a durable meta).
  void RemoveOldLogs(uint64_t log_number);

  Status WriteAlone(WriteBatch* batch, bool large_values);
  Status PutLarge(const WriteOptions& o, std::string_view key, std::string_view value);
  Status LogAndApply(std::unique_lock<std::mutex>& lock, WriteBatch* batch, bool sync,
                     bool large_values, uint64_t user_bytes = 0);
  Status RunWriter(Writer* w);
  Status Lead(Writer* w, std::unique_lock<std::mutex>& lock, Writer** last);
  // Pins the version `ro` reads (its snapshot's, else the current one) in
  // *tree; false if the database is closed.
  bool Pin(const ReadOptions& ro, btree::TreeRoot* tree);
  // Waits while the writer edits pages of the current version in place.
  // REQUIRES: mu_ held.
  void WaitForInPlaceEdit(std::unique_lock<std::mutex>& lock);
  // The newest version a reader pins (0 if none). REQUIRES: mu_ held.
  uint64_t MaxPinnedTxn() const;
  void Unpin(uint64_t txn);
  void AddPin(uint64_t txn);      // REQUIRES: mu_ held
  uint64_t MinPinnedTxn() const;  // REQUIRES: mu_ held
  // Publishes `tree` as the version new readers get. REQUIRES: mu_ held.
  void SetCurrent(const btree::TreeRoot& tree);
  std::string StatsString() const;

  Options options_;
  const std::string dir_;
  std::unique_ptr<FileLock> lock_file_;
  BlockCache page_cache_;  // pages read with pread (without a memory map)
  std::unique_ptr<btree::Pager> pager_;

  // Held by the writer that logs and applies (an unsynced writer alone, or the
  // leader of the queue); the lock order is write_mu_, then mu_.
  AdaptiveMutex write_mu_;
  // The writer's state: only the holder of write_mu_ touches it.
  std::unique_ptr<WritableFile> log_file_;
  std::unique_ptr<log::Writer> log_;
  uint64_t log_number_ = 0;
  // A checkpoint in progress: its thread writes the pages and the meta
  // (Pager::WriteCheckpoint) while writers go on in the new log; the old
  // log is closed and deleted once it is finished.
  bool checkpoint_running_ = false;
  std::thread checkpoint_thread_;
  Status checkpoint_status_;                     // the thread's result, read after join
  std::atomic<bool> checkpoint_written_{false};  // the thread is done
  std::unique_ptr<WritableFile> old_log_file_;
  std::unique_ptr<log::Writer> old_log_;
  uint64_t next_file_number_ = 1;
  WriteBatch group_batch_;
  WriteBatch ref_batch_;                        // the logged form of a batch with large values
  std::map<btree::PageId, uint64_t> reserved_;  // recovery: runs of records not replayed yet
  uint64_t log_bytes_ = 0;                      // appended to logs
  uint64_t user_bytes_ = 0;                     // keys and values written by users

  mutable std::mutex mu_;  // guards everything below
  btree::TreeRoot current_;
  // The newest transaction a checkpoint wrote: its pages, and older ones,
  // may be durable. A page newer than it and than every pinned version is
  // the writer's own: it edits it in place (btree::TreeWriter), with
  // editing_in_place_ set meanwhile.
  uint64_t written_txn_ = 0;
  bool editing_in_place_ = false;
  std::condition_variable edit_done_;
  uint64_t last_sequence_ = 0;
  // Readers by the version they pin: the current one's in a counter (the
  // common case costs no map lookup), older ones' in the map (no zeros).
  int64_t current_pins_ = 0;
  std::map<uint64_t, int> pins_;
  std::deque<Writer*> writers_;  // the front one is the leader
  Status bg_error_;              // sticky; see the header comment
  bool closed_ = false;
};

}  // namespace lightning
