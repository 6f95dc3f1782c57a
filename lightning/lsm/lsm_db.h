// LsmDB: the log-structured merge-tree engine behind lightning::DB.
//
// Write path: one writer at a time holds the write lock (write_mu_) and
// appends to the write-ahead log; it then inserts into the memtable while the
// next writer appends (inserts stay in log order). A write
// without sync takes that lock itself and appends its own record (handed to
// the OS before it is acknowledged). Sync writes, Sync() and Flush() join a
// queue instead: the writer at the front (the leader) takes the write lock,
// merges the queued batches into one record, appends and fsyncs it once,
// inserts it, and wakes the others (group commit).
// When the memtable is full it becomes immutable, a new log starts (the old
// one is fsync'd first, so a crash can never keep a later log's records and
// lose an earlier one's), and the flush thread writes it to a level-0 table.
// A compaction thread merges levels as they fill; flushes have a thread of
// their own so that a full memtable never waits behind a long compaction.
// Both apply their version edits one at a time (VersionSet::LogAndApply).
//
// Read path: a read takes references to the memtable, the immutable memtable
// and the current Version under the mutex, then reads without it: readers
// never wait for a writer's I/O.
//
// Errors: a failed log write or fsync, or a failed background flush or
// compaction, puts the database in a sticky error state: every later write
// returns that error (the log's tail may be gone; see durability.md), reads
// keep working, and reopening recovers what is durable.
//
// Thread safety: all public methods are thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "lightning/db.h"
#include "lightning/lsm/compaction.h"
#include "lightning/lsm/dbformat.h"
#include "lightning/lsm/memtable.h"
#include "lightning/lsm/table_cache.h"
#include "lightning/lsm/version_set.h"
#include "lightning/util/adaptive_mutex.h"
#include "lightning/util/block_cache.h"
#include "lightning/wal/log_writer.h"

namespace lightning {

class LsmDB final : public DB {
 public:
  static Status Open(const Options& options, const std::string& path, std::unique_ptr<DB>* db);
  ~LsmDB() override;

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
  Status CompactAll() override;
  Status Check() override;

 private:
  struct Writer;
  struct Stats {
    uint64_t flush_bytes = 0;  // table bytes written by flushes
    CompactionStats compaction;
    uint64_t flushes = 0;
    uint64_t compactions = 0;
    uint64_t trivial_moves = 0;
    uint64_t write_stalls = 0;
    uint64_t write_stall_micros = 0;  // time writers spent in those stalls
  };

  LsmDB(const Options& options, std::string path);

  // recovery.cc
  Status Recover();
  Status CreateNew();
  Status ReplayLogs(const std::vector<uint64_t>& logs, VersionEdit* edit);
  Status ReplayLog(uint64_t number, SequenceNumber* next_sequence, bool* stop, VersionEdit* edit);
  Status FlushRecoveredMemTable(VersionEdit* edit);
  Status ScanDirectory(std::vector<uint64_t>* logs);

  // Write path.
  Status WriteAlone(WriteBatch* batch);
  Status RunWriter(Writer* w);
  Status MakeRoomForWrite(std::unique_lock<std::mutex>& lock, bool force);
  Status SwitchMemTable(std::unique_lock<std::mutex>& lock);
  void WaitForGroup(std::unique_lock<std::mutex>& lock);
  WriteBatch* BuildBatchGroup(Writer** last);
  Status WriteGroup(std::unique_lock<AdaptiveMutex>& write_lock, std::unique_lock<std::mutex>& lock,
                    Writer** last);
  Status LogAndInsert(std::unique_lock<AdaptiveMutex>& write_lock,
                      std::unique_lock<std::mutex>& lock, WriteBatch* batch, bool sync);

  // Background work: one thread flushes, another compacts.
  void StartBackgroundThreads();
  void FlushLoop();
  void CompactionLoop();
  void FinishBackgroundWork(std::unique_lock<std::mutex>& lock, const Status& s);
  // REQUIRES: mu_ held. Keeps the first error and wakes everyone waiting on bg_cv_.
  void SetBackgroundError(const Status& s);
  Status FlushImmutable(std::unique_lock<std::mutex>& lock);
  Status DoCompaction(std::unique_lock<std::mutex>& lock, const Compaction& c);
  // at_open: no background thread runs yet, so leftover temp files can go too.
  void RemoveObsoleteFiles(std::unique_lock<std::mutex>& lock, bool at_open = false);
  TableOutputContext OutputContext();
  SequenceNumber SmallestSnapshot() const;
  std::string StatsString() const;
  double WriteAmplification() const;

  struct ReadState {
    SequenceNumber sequence = 0;
    std::shared_ptr<MemTable> mem, imm;
    std::shared_ptr<const Version> version;
  };
  Status GetReadState(const ReadOptions& ro, ReadState* state);

  // Immutable after Open.
  Options options_;
  const std::string dir_;
  std::unique_ptr<FileLock> lock_file_;
  BlockCache block_cache_;
  TableCache table_cache_;

  std::mutex manual_mu_;  // one CompactAll at a time
  // Lock order: write_mu_, mem_mu_, mu_.
  AdaptiveMutex write_mu_;                   // held to append to the log (see LogAndInsert)
  AdaptiveMutex mem_mu_;                     // held to insert into mem_ and publish
  SequenceNumber last_allocated_ = 0;        // the last sequence given to a write; write_mu_
  std::atomic<uint64_t> user_bytes_{0};      // keys and values written by users
  std::atomic<uint64_t> log_bytes_{0};       // bytes appended to write-ahead logs
  mutable std::mutex mu_;                    // guards everything below
  std::condition_variable bg_cv_;            // background work to do, or done
  std::condition_variable writers_idle_cv_;  // the writer queue became empty
  VersionSet versions_;
  std::shared_ptr<MemTable> mem_;
  std::shared_ptr<MemTable> imm_;  // being flushed, or null
  std::unique_ptr<WritableFile> log_file_;
  std::unique_ptr<log::Writer> log_;
  uint64_t log_number_ = 0;
  std::deque<Writer*> writers_;              // the front one is the leader
  WriteBatch group_batch_;                   // reused by leaders to merge a group
  std::vector<std::thread::id> last_group_;  // the last group's threads (BuildBatchGroup)
  std::chrono::steady_clock::time_point last_group_end_;  // when it was done
  std::condition_variable queue_grew_cv_;                 // a leader waits here in WaitForGroup
  size_t group_wanted_ = 0;  // the queue length a waiting leader waits for; 0: none waits
  std::atomic<int64_t> last_sync_nanos_{0};  // how long the last group's fsync took
  std::multiset<SequenceNumber> snapshots_;
  Status bg_error_;  // sticky; see the header comment
  bool closed_ = false;
  int manual_level_ = -1;  // a CompactAll step for the compaction thread
  // Table files a flush or compaction is writing, not yet in a version:
  // RemoveObsoleteFiles must leave them alone.
  std::set<uint64_t> pending_outputs_;
  Stats stats_;
  std::atomic<bool> shutting_down_{false};
  std::thread flush_thread_;
  std::thread compaction_thread_;
};

}  // namespace lightning
